import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Cluster: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "k-means clustering of a data file's inputs (seeded, deterministic, parallel), with the silhouette score, as JSON (docs/analysis.md).")

        @Argument(help: "Data file: {\"inputs\": [[...], ...]} (samples × features; each sample flattened), or `digits`.") var data: String
        @Option(name: .long, help: "Number of clusters.") var k: Int
        @Option(name: .long, help: "Seed of the initialisation.") var seed: UInt64 = 0
        @Option(name: .long, help: "Initialisation: plusplus (k-means++) or random.") var initialization: String = "plusplus"
        @Option(name: .long, help: "Runs from different initialisations; the lowest inertia wins.") var restarts: Int = 1
        @Option(name: .long, help: "Lloyd iterations at most.") var maxIterations: Int = 300
        @Flag(name: .long, help: "Leave out the per-sample labels.") var noLabels = false
        @OptionGroup var threads: ThreadOption

        func run() throws {
            let ctx = try threads.context()
            let initialization: Clustering.Initialization
            switch self.initialization {
            case "plusplus": initialization = .plusPlus
            case "random": initialization = .random
            default: throw LoomError(.invalidArgument, "--initialization", "must be plusplus or random, got \"\(self.initialization)\"")
            }
            let (points, dim) = try inputRows(data)
            let r = try Clustering.kMeans(points, dim: dim, k: k, seed: seed, initialization: initialization,
                                          maxIterations: maxIterations, restarts: restarts, context: ctx)
            let n = points.count / dim
            var sizes = [Int](repeating: 0, count: k)
            for l in r.labels { sizes[l] += 1 }
            let distinct = sizes.filter { $0 > 0 }.count
            let silhouette: JSONValue = distinct >= 2 && distinct <= n - 1
                ? JSONValue.number(try Clustering.silhouetteScore(points, dim: dim, labels: r.labels, context: ctx)) ?? .null : .null
            func num(_ x: Double) -> JSONValue { JSONValue.number(x) ?? .null }
            var o = JSONObject([
                ("samples", .number(n)), ("features", .number(dim)), ("k", .number(k)),
                ("inertia", num(r.inertia)), ("iterations", .number(r.iterations)), ("silhouette", silhouette),
                ("sizes", .array(sizes.map { JSONValue.number($0) })),
                ("centers", .array((0..<k).map { c in .array(r.centers[c * dim..<(c + 1) * dim].map(num)) })),
            ])
            if !noLabels { o.set("labels", .array(r.labels.map { JSONValue.number($0) })) }
            out(JSONValue.object(o).serialized(pretty: true))
        }
    }
}

/// A data file's inputs as rows of Double (samples × features, each sample flattened), or the
/// embedded digits (`digits`): the analysis commands' input.
func inputRows(_ data: String) throws -> ([Double], Int) {
    if data == "digits" {
        let x = Digits.load(as: Double.self).inputs
        return (x.data, 64)
    }
    let root = try ModelCodec.parse(try FileIO.readText(data), source: data)
    guard let inputs = root["inputs"], let first = inputs.arrayValue?.first else {
        throw LoomError(.invalidInput, "\(data): inputs", "expected {\"inputs\": [[...], ...]} with at least one sample")
    }
    var one = [Double]()
    try DataCodec.flatten(first, path: "inputs[0]", into: &one)
    let x = try DataCodec.batch(inputs, sampleShape: [one.count], path: "inputs", as: Double.self)
    return (x.data, one.count)
}
