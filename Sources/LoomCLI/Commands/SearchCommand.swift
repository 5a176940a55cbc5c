import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Search: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Architecture search: generate diverse seeded architectures, train each briefly, rank them by validation loss (docs/analysis.md).",
            discussion: """
            Candidate i is drawn from Philox(--seed) alone (brain types, grid shape, width, combine
            mode, activation, learning rate), so a seed names the same candidates everywhere; each
            trains --epochs epochs with AdamW on the same held-out split, and the ranking is the same
            for any thread count. --save-best writes the winner's IR with a training block (its
            learning rate), ready for `loom train`.
            """)

        @Option(name: .long, help: "Data: a JSON file {\"inputs\": [[...], ...], \"targets\": [...]} (class ids or value rows), or `digits`.") var data: String
        @Option(name: .long, help: "How many architectures.") var count: Int = 8
        @Option(name: .long, help: "Seed of the generator (and of each candidate's weights).") var seed: UInt64 = 1
        @Option(name: .long, help: "Training epochs per candidate.") var epochs: Int = 3
        @Option(name: .long, help: "Loss: cross_entropy (class ids), mse or bce; default from the targets.") var loss: String?
        @Option(name: .long, help: "Share of the samples held out to rank on.") var validationSplit: Double = 0.25
        @Option(name: .long, help: "Save the best candidate's IR (with a training block) here.") var saveBest: String?
        @OptionGroup var threads: ThreadOption

        func run() throws {
            guard epochs >= 1 else { throw LoomError(.invalidArgument, "--epochs", "must be at least 1, got \(epochs)") }
            let ctx = try threads.context()
            let (x, t, outputs, defaultLoss) = try dataset()
            let kind: LossKind
            if let l = loss {
                guard let k = LossKind(rawValue: l) else { throw LoomError(.invalidArgument, "--loss", "unknown loss \"\(l)\" (mse, cross_entropy, bce)") }
                kind = k
            } else {
                kind = defaultLoss
            }
            let candidates = try ArchitectureGeneration.generate(count: count, seed: seed, inputWidth: x.count / x.batch, outputs: outputs)
            out("searching \(count) architectures (seed \(seed)) on \(x.batch) samples × \(x.count / x.batch) features → \(outputs) outputs, \(epochs) epoch(s) each, \(kind.rawValue), \(ctx.threads) thread(s)")
            let ranked = try ArchitectureGeneration.search(candidates, inputs: x, targets: t, loss: kind, epochs: epochs,
                                                           validationSplit: validationSplit, context: ctx)
            out("rank  arch  val loss  val acc  parameters  architecture")
            for (r, c) in ranked.enumerated() {
                let acc = c.validationAccuracy.map { fixed($0 * 100, 1) + "%" } ?? "-"
                out("\(pad(String(r + 1), 4))  \(pad(String(c.candidate.index), 4))  \(pad(fixed(c.validationLoss, 4), 8))  \(pad(acc, 7))  \(pad(String(c.parameters), 10))  \(c.candidate.summary)")
            }
            if let path = saveBest, let best = ranked.first {
                var spec = best.candidate.spec
                spec.training = TrainingSpec(loss: kind, optimizer: .adamw(lr: best.candidate.learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
                                             epochs: 10, batchSize: 32, validationSplit: validationSplit, clip: .norm(5))
                try FileIO.write(path, text: IREncoder.encode(spec).serialized(pretty: true))
                out("best: arch \(best.candidate.index) → \(path)")
            }
        }

        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }

        /// Inputs (flattened per sample), targets, the output count and the loss the targets suggest.
        func dataset() throws -> (Tensor<Float>, Tensor<Float>, Int, LossKind) {
            if data == "digits" {
                let (x, y) = Digits.load(as: Float.self)
                return (x, y, 10, .crossEntropy)
            }
            let root = try ModelCodec.parse(try FileIO.readText(data), source: data)
            guard let inputs = root["inputs"]?.arrayValue, let first = inputs.first, let targets = root["targets"]?.arrayValue, let t0 = targets.first else {
                throw LoomError(.invalidInput, data, "expected {\"inputs\": [[...], ...], \"targets\": [...]} with at least one sample")
            }
            var one = [Double]()
            try DataCodec.flatten(first, path: "inputs[0]", into: &one)
            if t0.numberValue != nil {
                // Class ids: as many outputs as the largest id + 1.
                var top = 0
                for (i, v) in targets.enumerated() {
                    guard let n = v.numberValue?.int, n >= 0 else { throw LoomError(.invalidInput, "\(data): targets[\(i)]", "expected a class id (a non-negative integer) like targets[0]") }
                    top = Swift.max(top, n)
                }
                let (x, t) = try DataCodec.dataset(root, inputShape: [one.count], outputShape: [top + 1], as: Float.self)
                return (x, t, top + 1, .crossEntropy)
            }
            var width = [Double]()
            try DataCodec.flatten(t0, path: "targets[0]", into: &width)
            let (x, t) = try DataCodec.dataset(root, inputShape: [one.count], outputShape: [width.count], as: Float.self)
            return (x, t, width.count, .mse)
        }
    }
}
