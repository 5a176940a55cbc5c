import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Correlate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correlation matrix (Pearson or Spearman) of a data file's inputs, with feature statistics and the strongly correlated pairs, as JSON (docs/analysis.md).")

        @Argument(help: "Data file: {\"inputs\": [[...], ...]} (samples × features; each sample flattened), or `digits`.") var data: String
        @Flag(name: .long, help: "Spearman (rank) correlation instead of Pearson.") var spearman = false
        @Option(name: .long, help: "Pairs with |r| at least this are listed as strong.") var threshold: Double = 0.7
        @Option(name: .long, parsing: .upToNextOption, help: "Feature names (one per feature).") var names: [String] = []

        func run() throws {
            guard threshold >= 0 && threshold <= 1 else { throw LoomError(.invalidArgument, "--threshold", "must be in [0, 1], got \(threshold)") }
            let (x, features) = try inputRows(data)
            let m = try CorrelationMatrix(x, samples: x.count / features, featureCount: features, names: names.isEmpty ? nil : names,
                                          method: spearman ? .spearman : .pearson)
            out(m.json(strongThreshold: threshold).serialized(pretty: true))
        }
    }
}
