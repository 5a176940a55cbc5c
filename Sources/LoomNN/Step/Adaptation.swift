import LoomCore

/// The adaptation experiments of the original Loom, rebuilt so that every mode is measured the
/// same way (docs/tweening.md, "Adaptation benchmark"): a stream of samples, one per tick, whose
/// task changes at scheduled ticks; at every tick the model first predicts the new sample (the
/// inference path, scored), then trains as its mode does. Every mode spends the same compute: one
/// sample's forward and backward per tick on average.
public enum Adaptation {
    /// A stream task.
    public struct Task: Sendable {
        public enum Kind: String, Sendable, CaseIterable {
            /// Predict the next sample of a sine from the last 16; the frequency steps 1×, 2×, 3×, 4×
            /// (2 Hz base at 100 samples/s) at each switch. Correct: |prediction − target| < 0.1.
            case sine
            /// From the relative position (dx, dy) of a target, pick the move (right, left, up, down)
            /// that chases it, or after a switch avoids it, alternating. Correct: the right move.
            case chaseAvoid = "chase_avoid"
        }
        public let kind: Kind
        public let ticks: Int
        /// Ticks at which the task changes (strictly increasing, inside the run).
        public let switches: [Int]
        /// Samples per second of the stream (the tick's meaning in time).
        public let rate: Double = 100
        /// How long the stream takes to arrive.
        public var seconds: Double { Double(ticks) / rate }

        /// The original's settings: sine 10 s with switches every 2.5 s; chase/avoid 15 s with
        /// switches at 5 s and 10 s.
        public static func standard(_ kind: Kind) -> Task {
            switch kind {
            case .sine: return try! Task(kind, ticks: 1000, switches: [250, 500, 750])
            case .chaseAvoid: return try! Task(kind, ticks: 1500, switches: [500, 1000])
            }
        }

        public init(_ kind: Kind, ticks: Int, switches: [Int]) throws(LoomError) {
            guard ticks > 0 else { throw LoomError(.invalidArgument, "adapt.ticks", "must be positive, got \(ticks)") }
            var last = 0
            for (i, s) in switches.enumerated() {
                guard s > last else {
                    throw LoomError(.invalidArgument, "adapt.switches[\(i)]", "switch at tick \(s) is scheduled in the past (not after tick \(last))")
                }
                guard s < ticks else {
                    throw LoomError(.invalidArgument, "adapt.switches[\(i)]", "switch at tick \(s) is past the end of the run (\(ticks) ticks)")
                }
                last = s
            }
            self.kind = kind; self.ticks = ticks; self.switches = switches
        }

        /// Which phase of the task tick k is in (0 before the first switch).
        public func phase(_ k: Int) -> Int { switches.filter { $0 <= k }.count }

        var inputWidth: Int { kind == .sine ? 16 : 2 }
        var outputWidth: Int { kind == .sine ? 1 : 4 }
        var loss: LossKind { kind == .sine ? .mse : .crossEntropy }

        /// The network every mode trains (3 stages).
        public func network(seed: UInt64) -> NetworkSpec {
            NetworkSpec(name: "adapt_\(kind.rawValue)", dtype: .f32, seed: seed, inputShape: [inputWidth],
                        layers: [.dense(units: 32, activation: .tanh, bias: true), .dense(units: 32, activation: .tanh, bias: true),
                                 .dense(units: outputWidth, activation: .linear, bias: true)])
        }

        /// The sample of tick k: its input and target value (sine) or class (chase/avoid). The
        /// sine's phase is accumulated at each phase's frequency, so the wave is continuous.
        func sample(_ k: Int, seed: UInt64, phases: [Double]) -> (x: [Float], target: Float) {
            switch kind {
            case .sine:
                let xs = (0...16).map { Float(DetMath.sin(phases[k + $0])) }
                return (Array(xs[0..<16]), xs[16])
            case .chaseAvoid:
                let rng = Philox(seed: seed)
                let dx = 2 * rng.uniformDouble(stream: StreamID.of("adapt-dx"), index: UInt64(k)) - 1
                let dy = 2 * rng.uniformDouble(stream: StreamID.of("adapt-dy"), index: UInt64(k)) - 1
                var move = abs(dx) >= abs(dy) ? (dx > 0 ? 0 : 1) : (dy > 0 ? 2 : 3)
                if phase(k) % 2 == 1 { move ^= 1 }   // avoid: the opposite move
                return ([Float(dx), Float(dy)], Float(move))
            }
        }

        /// The sine's phase at every sample index 0 … ticks + 16.
        func phases() -> [Double] {
            guard kind == .sine else { return [] }
            var p = [0.0]
            for i in 0..<(ticks + 16) {
                let tick = Swift.max(0, i - 15)   // sample i + 1 belongs to the window of tick i − 15
                p.append(p[i] + 2 * Double.pi * 2 * Double(phase(tick) + 1) / rate)
            }
            return p
        }
    }

    /// The six training modes.
    public enum Mode: String, Sendable, CaseIterable {
        /// Every 10 ticks, one AdamW step on the last 10 samples (blocking batch retraining).
        case normalBP = "NormalBP"
        /// Online backpropagation on the pipeline (`StepTrainer`), an AdamW step per sample.
        case stepBP = "StepBP"
        /// Every 10 ticks, one gap-closing tween step on the last 10 samples.
        case tween = "Tween"
        /// Every 10 ticks, one chain-rule tween step on the last 10 samples.
        case tweenChain = "TweenChain"
        /// Gap-closing tweening on the pipeline, a sample per tick (`StepTweenTrainer`).
        case stepTween = "StepTween"
        /// Chain-rule tweening on the pipeline, a sample per tick.
        case stepTweenChain = "StepTweenChain"
    }

    /// One run: whether each tick's prediction was correct, and wall times.
    public struct Run: Sendable {
        public let mode: Mode
        public let seed: UInt64
        public let correct: [Bool]
        /// Seconds spent predicting (the inference path) and training.
        public let inferenceSeconds: Double, trainingSeconds: Double
        /// Each tick's training time: how long the inference path was blocked before the next tick.
        public let stalls: [Double]

        /// The `q`-quantile of the per-tick stalls (0.99: 1% of ticks were blocked longer).
        public func stall(quantile q: Double) -> Double {
            let s = stalls.sorted()
            return s.isEmpty ? 0 : s[Swift.min(s.count - 1, Int(q * Double(s.count)))]
        }

        /// The share of the stream's wall time (`ticks / rate` seconds: the time the samples take
        /// to arrive) in which the inference path was not blocked by training.
        public func availability(streamSeconds: Double) -> Double { Swift.max(0, 1 - trainingSeconds / streamSeconds) }
        /// The share of the loop's own compute time spent on predictions (the rest trained).
        public var inferenceShare: Double { inferenceSeconds / Swift.max(inferenceSeconds + trainingSeconds, 1e-12) }
        public var accuracy: Double { Double(correct.filter { $0 }.count) / Double(Swift.max(correct.count, 1)) }

        /// Accuracy per window of `width` ticks.
        public func windows(_ width: Int) -> [Double] {
            stride(from: 0, to: correct.count, by: width).map { s in
                let w = correct[s..<Swift.min(correct.count, s + width)]
                return Double(w.filter { $0 }.count) / Double(w.count)
            }
        }
    }

    /// The batch modes' interval, in ticks (and their batch size).
    public static let interval = 10
    /// AdamW's rate for the backpropagation modes, the tween rate for the tween modes.
    public static let adamRate = 0.01, tweenRate = 0.02

    /// Runs `mode` on `task` with weights seeded by `seed`. `clock` returns seconds (monotonic);
    /// only the wall times depend on it: the predictions are the same bits on every run.
    public static func run(_ task: Task, mode: Mode, seed: UInt64, clock: () -> Double) throws(LoomError) -> Run {
        let net = try Network<Float>(task.network(seed: seed))
        let ctx = SerialContext()
        let adam = OptimizerSpec.adamw(lr: adamRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0)
        var tweenConfig = TweenConfig(mode: mode == .tween || mode == .stepTween ? .gapClosing : .chainRule)
        tweenConfig.rate = tweenRate
        let optimizer = Optimizer<Float>(adam)
        let tween = mode == .tween || mode == .tweenChain ? try TweenState(net, config: tweenConfig) : nil
        let stepBP = mode == .stepBP ? try StepTrainer(network: net, optimizer: adam, loss: task.loss) : nil
        let stepTween = mode == .stepTween || mode == .stepTweenChain ? try StepTweenTrainer(network: net, config: tweenConfig) : nil
        let phases = task.phases()
        var correct = [Bool](), inference = 0.0, training = 0.0, stalls = [Double]()
        var batchX = [Float](), batchT = [Float]()
        for k in 0..<task.ticks {
            let (xv, tv) = task.sample(k, seed: seed, phases: phases)
            let x = Tensor(uncheckedShape: [1, task.inputWidth], data: xv)
            let t0 = clock()
            let y = try net.forward(x, context: ctx)
            let t1 = clock()
            inference += t1 - t0
            switch task.kind {
            case .sine: correct.append(abs(y.data[0] - tv) < 0.1)
            case .chaseAvoid: correct.append((0..<4).max { y.data[$0] < y.data[$1] } == Int(tv))
            }
            let target = task.kind == .sine ? Tensor(uncheckedShape: [1, 1], data: [tv]) : Tensor(uncheckedShape: [1], data: [tv])
            let tweenTarget: TweenTarget<Float> = task.kind == .sine ? .values(target) : .classes([Int(tv)])
            batchX += xv; batchT.append(tv)
            switch mode {
            case .stepBP: try stepBP!.tick(x, target: target, context: ctx)
            case .stepTween, .stepTweenChain: try stepTween!.tick(x, target: tweenTarget, context: ctx)
            case .normalBP, .tween, .tweenChain:
                if batchT.count == interval {
                    let bx = Tensor(uncheckedShape: [interval, task.inputWidth], data: batchX)
                    if let tw = tween {
                        try tw.step(bx, target: task.kind == .sine ? .values(Tensor(uncheckedShape: [interval, 1], data: batchT))
                                                             : .classes(batchT.map { Int($0) }), context: ctx)
                    } else {
                        let bt = task.kind == .sine ? Tensor(uncheckedShape: [interval, 1], data: batchT) : Tensor(uncheckedShape: [interval], data: batchT)
                        _ = try net.computeGradients(bx, target: bt, loss: task.loss, context: ctx, step: UInt64(k))
                        optimizer.step(net.params, lr: adamRate, context: ctx)
                    }
                    batchX = []; batchT = []
                }
            }
            let t2 = clock()
            training += t2 - t1
            stalls.append(t2 - t1)
        }
        return Run(mode: mode, seed: seed, correct: correct, inferenceSeconds: inference, trainingSeconds: training, stalls: stalls)
    }

}
