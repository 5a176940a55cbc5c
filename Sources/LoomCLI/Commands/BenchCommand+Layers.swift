import Loom
import LoomCore
import LoomNN
import LoomGPU
import Glibc

/// The layer and training-step benchmarks of `loom bench --mode …` (scripts/bench times the same
/// shapes in PyTorch). Every case runs on seeded uniform values (never zeros), warms up first and
/// reports the best time per step over `repeats` rounds of at least `iterations` steps and 50 ms each.
enum LayerBench {
    struct Case {
        var mode: String
        var shape: String
        var spec: NetworkSpec
        var batch: Int
        /// Forward FLOPs of one step (multiply and add counted apart), or 0 where not meaningful.
        var forwardFLOPs: Double
        /// nil: forward + backward of the layer; else a full training step with this spec.
        var training: TrainingSpec?
    }

    static let modes = ["conv2d", "lstm", "mha", "train-cnn", "train-mlp"]

    /// The shapes, shared with scripts/bench (keep them in step).
    static func makeCase(_ mode: String) throws(LoomError) -> Case {
        let adamw = TrainingSpec(loss: .crossEntropy,
                                 optimizer: .adamw(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01))
        switch mode {
        case "conv2d":
            // batch 32, [16, 32, 32] → 32 filters 3×3, padding 1 → [32, 32, 32].
            let spec = NetworkSpec(name: "bench-conv2d", seed: 1, inputShape: [16, 32, 32],
                                   layers: [.conv(ConvSpec(rank: 2, filters: 32, kernel: [3, 3], padding: [1, 1]))])
            return Case(mode: mode, shape: "batch 32, [16, 32, 32] → 32 filters 3×3, padding 1", spec: spec, batch: 32,
                        forwardFLOPs: 2.0 * 32 * 32 * 32 * 32 * 16 * 9, training: nil)
        case "lstm":
            // batch 32, seq 32, 64 features → hidden 128, every step returned.
            let spec = NetworkSpec(name: "bench-lstm", seed: 1, inputShape: [32, 64],
                                   layers: [.recurrent(RecurrentSpec(cell: .lstm, hiddenSize: 128))])
            return Case(mode: mode, shape: "batch 32, seq 32, 64 → hidden 128", spec: spec, batch: 32,
                        forwardFLOPs: 2.0 * 32 * 32 * (4 * 128) * (64 + 128), training: nil)
        case "mha":
            // batch 16, seq 64, d_model 128, 4 heads of 32, no bias, not causal.
            let spec = NetworkSpec(name: "bench-mha", seed: 1, inputShape: [64, 128],
                                   layers: [.multiHeadAttention(AttentionSpec(numHeads: 4))])
            let proj = 4 * 2.0 * 16 * 64 * 128 * 128, scores = 2 * 2.0 * 16 * 64 * 64 * 128
            return Case(mode: mode, shape: "batch 16, seq 64, d_model 128, 4 heads", spec: spec, batch: 16,
                        forwardFLOPs: proj + scores, training: nil)
        case "train-cnn":
            var spec = try IRDecoder.decode(json: Demo.cnnNetworkJSON, source: "demo cnn")
            spec.training = adamw
            return Case(mode: mode, shape: "digits CNN (loom demo cnn), batch 64", spec: spec, batch: 64,
                        forwardFLOPs: 2.0 * 64 * (16 * 64 * 25 + 32 * 64 * 16 * 9 + 512 * 10), training: adamw)
        case "train-mlp":
            let spec = NetworkSpec(name: "bench-mlp", seed: 1, inputShape: [64],
                                   layers: [.dense(units: 128, activation: .relu, bias: true),
                                            .dense(units: 10, activation: .linear, bias: true)])
            return Case(mode: mode, shape: "MLP 64-128 relu-10, batch 64", spec: spec, batch: 64,
                        forwardFLOPs: 2.0 * 64 * (64 * 128 + 128 * 10), training: adamw)
        default:
            throw LoomError(.invalidArgument, "--mode", "dense, layers or one of \(modes.joined(separator: ", ")); got \(mode)")
        }
    }

    static func run<T: LoomFloat>(_: T.Type, mode: String, repeats: Int, iterations: Int, batch: Int? = nil,
                                  context: ComputeContext, threads: Int) throws(LoomError) -> String {
        var c = try makeCase(mode)
        if let b = batch, b != c.batch {
            c.forwardFLOPs *= Double(b) / Double(c.batch)
            c.shape = c.shape.replacing("batch \(c.batch)", with: "batch \(b)")
            c.batch = b
        }
        var spec = c.spec
        spec.dtype = T.dtype
        let net = try Network<T>(spec)
        let x: Tensor<T> = Init.uniform([c.batch] + net.inputShape, bound: 1, seed: 2, name: "bench-input")
        let step: () throws(LoomError) -> Void
        var finish: () throws(LoomError) -> Void = {}
        var trainerRef: Trainer<T>? = nil
        if let training = c.training {
            var labels = [T]()
            for i in 0..<c.batch { labels.append(T(Double((i * 7 + 3) % 10))) }
            let t = try Tensor<T>(shape: [c.batch], data: labels)
            let trainer = Trainer(network: net, spec: training, context: context)
            trainerRef = trainer
            if context.takesWholeGemm, let why = trainer.attachResidentGPU() { throw why }
            step = { () throws(LoomError) in _ = try trainer.step(x, t) }
            finish = { () throws(LoomError) in try trainer.accelerator?.finish() }
        } else {
            let dy: Tensor<T> = Init.uniform([c.batch] + net.outputShape, bound: 1, seed: 3, name: "bench-grad")
            var n: UInt64 = 0
            step = { () throws(LoomError) in
                net.params.zeroGrads()
                let pass = net.trainingPass(context: context, step: n)
                n += 1
                _ = try net.forward(x, pass: pass)
                _ = net.backward(dy, pass: pass)
            }
        }
        try step()  // warm-up; the second, timed, sets how many steps make a round of ≥ 50 ms
        try finish()
        let tw = LoomCommand.Bench.now()
        try step()
        try finish()
        let rounds = Swift.max(iterations, Int((0.05 / Swift.max(LoomCommand.Bench.now() - tw, 1e-9)).rounded(.up)))
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = LoomCommand.Bench.now()
            for _ in 0..<rounds { try step() }
            try finish()  // a device's queued work is part of the round
            best = Swift.min(best, (LoomCommand.Bench.now() - t0) / Double(rounds))
        }
        if let v = getenv("LOOM_GPU_PROFILE"), String(cString: v) == "1", let r = trainerRef?.accelerator as? ResidentNetwork<T> {
            r.profiling = true
            for _ in 0..<rounds { try step() }
            for l in r.profileLines { note("profile \(mode): \(l) (\(rounds) steps)") }
        }
        // Backward is about twice the forward's FLOPs (gradients of inputs and of weights).
        let gflops = c.forwardFLOPs > 0 ? 3 * c.forwardFLOPs / best / 1e9 : 0
        let device = (context as? CUDAContext).map { " device=cuda:\($0.device.index)" } ?? ""
        return "\(mode) \(T.dtype.name) threads=\(threads)\(device) us=\(best * 1e6) gflops=\(gflops) shape=\(c.shape)"
    }
}
