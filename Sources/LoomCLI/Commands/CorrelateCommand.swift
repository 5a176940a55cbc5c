import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Correlate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Correlation matrix (Pearson or Spearman) of a data file's inputs, with feature statistics and the strongly correlated pairs, as JSON (docs/analysis.md).")

        @Argument(help: "Data file: {\"inputs\": [[...], ...]} (samples × features; each sample flattened).") var data: String
        @Flag(name: .long, help: "Spearman (rank) correlation instead of Pearson.") var spearman = false
        @Option(name: .long, help: "Pairs with |r| at least this are listed as strong.") var threshold: Double = 0.7
        @Option(name: .long, parsing: .upToNextOption, help: "Feature names (one per feature).") var names: [String] = []

        func run() throws {
            guard threshold >= 0 && threshold <= 1 else { throw LoomError(.invalidArgument, "--threshold", "must be in [0, 1], got \(threshold)") }
            let root = try ModelCodec.parse(try FileIO.readText(data), source: data)
            guard let inputs = root["inputs"], let first = inputs.arrayValue?.first else {
                throw LoomError(.invalidInput, "\(data): inputs", "expected {\"inputs\": [[...], ...]} with at least one sample")
            }
            var one = [Double]()
            try DataCodec.flatten(first, path: "inputs[0]", into: &one)
            let x = try DataCodec.batch(inputs, sampleShape: [one.count], path: "inputs", as: Double.self)
            let m = try CorrelationMatrix(x.data, samples: x.batch, featureCount: one.count, names: names.isEmpty ? nil : names,
                                          method: spearman ? .spearman : .pearson)
            out(m.json(strongThreshold: threshold).serialized(pretty: true))
        }
    }
}
