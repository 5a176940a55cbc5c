import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Graft: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Graft trained networks into one parallel super-network (weights copied, never shared); with --freeze-experts only the gate trains (docs/analysis.md).",
            discussion: """
            Each model becomes one branch of a parallel layer over the common input, combined by
            --combine. With `filter`, a gate (a linear dense layer, one logit per expert) learns per
            sample how much each expert counts; --freeze-experts lists every expert in the training
            block's `freeze`, so `loom train` then moves only the gate. The training block is
            --training (a JSON object, or a file holding one), else the first model's.
            """)

        @Argument(help: "Two or more models (saved JSON or safetensors), with the same input shape and dtype.") var models: [String]
        @Option(name: .long, help: "How branch outputs join: concat, add, multiply, average, grid_scatter or filter.") var combine: String = "filter"
        @Flag(name: .long, help: "Freeze every expert's weights (training moves only the gate).") var freezeExperts = false
        @Option(name: .long, help: "The graft's training block: JSON text or a file (default: the first model's).") var training: String?
        @Option(name: .long, help: "The graft's name.") var name: String = "graft"
        @Option(name: .long, help: "Seed of the gate's initial weights.") var seed: UInt64 = 0
        @Option(name: .long, help: "Save the graft here (a JSON model: IR with the training block, weights).") var save: String

        func run() throws {
            guard models.count >= 2 else { throw LoomError(.invalidArgument, "models", "graft needs at least 2 models, got \(models.count)") }
            guard let mode = CombineMode(rawValue: combine) else {
                throw LoomError(.invalidArgument, "--combine", "unknown combine mode \"\(combine)\" (\(CombineMode.allCases.map { $0.rawValue }.joined(separator: ", ")))")
            }
            let nets = try models.map { $0.hasSuffix(".safetensors") ? try AnyNetwork.load(safetensorsPath: $0) : try AnyNetwork.load(path: $0) }
            let block: TrainingSpec? = if let t = training { try trainingBlock(t) } else { nets[0].spec.training }
            var f32 = [Network<Float>](), f64 = [Network<Double>]()
            for (i, n) in nets.enumerated() {
                switch n {
                case .f32(let x, _): f32.append(x)
                case .f64(let x, _): f64.append(x)
                }
                guard f32.isEmpty || f64.isEmpty else {
                    throw LoomError(.invalidArgument, models[i], "computes in \(n.spec.dtype.name), unlike \(models[0]) (\(nets[0].spec.dtype.name)); convert one with `loom quantize`")
                }
            }
            let graft: AnyNetwork = f64.isEmpty
                ? .f32(try Grafting.graft(f32, combine: mode, freezeExperts: freezeExperts, training: block, name: name, seed: seed), nil)
                : .f64(try Grafting.graft(f64, combine: mode, freezeExperts: freezeExperts, training: block, name: name, seed: seed), nil)
            try graft.save(to: save, option: "--save")
            let (total, frozen) = graft.parameterCounts
            out("grafted \(models.count) experts (\(mode.rawValue)): \(total) parameters, \(frozen) frozen, \(total - frozen) trainable")
            out("saved: \(save)")
        }

        func trainingBlock(_ text: String) throws -> TrainingSpec {
            let source = text.first == "{" ? "--training" : text
            let json = text.first == "{" ? text : try FileIO.readText(text)
            return try TrainingDecoder.decode(try ModelCodec.parse(json, source: source), path: "training")
        }
    }
}

extension AnyNetwork {
    /// (scalar parameters, of which frozen).
    var parameterCounts: (Int, Int) {
        func count<T: LoomFloat>(_ p: ParameterStore<T>) -> (Int, Int) {
            var all = 0, frozen = 0
            for (i, v) in p.values.enumerated() { all += v.count; if p.frozen[i] { frozen += v.count } }
            return (all, frozen)
        }
        switch self {
        case .f32(let n, _): return count(n.params)
        case .f64(let n, _): return count(n.params)
        }
    }
}
