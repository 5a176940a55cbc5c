import LoomCore

/// Random diverse architectures from a seeded generator, and a small search that trains each
/// briefly and ranks them (the original's `GenerateDiverseConfigs`/`BuildDiverseNetwork`, study
/// §6.4, as IR): every candidate is `dense(in → d) → parallel hive of rows × cols brains (combine)
/// → dense merger → output dense`, a valid `NetworkSpec` that trains like any other. The same seed
/// gives the same candidates everywhere.
public enum ArchitectureGeneration {
    /// What a hive cell is; every brain maps `[d]` to `[d]`.
    public enum Brain: String, Sendable, CaseIterable {
        case dense, normDense = "norm_dense", swiglu, attention, lstm, rnn, gru, conv1d
    }

    public struct Options: Sendable {
        /// Brains and their relative weights (the original: mostly dense and attention).
        public var brains: [(Brain, Double)] = [(.dense, 0.30), (.attention, 0.20), (.lstm, 0.10), (.rnn, 0.05), (.gru, 0.05),
                                                (.swiglu, 0.10), (.normDense, 0.10), (.conv1d, 0.10)]
        /// Hive grid shapes (rows, cols) (the original's `StandardGridShapes`).
        public var grids: [(Int, Int)] = [(1, 1), (2, 2), (3, 3), (4, 1), (1, 4), (2, 3), (3, 2), (8, 1), (6, 4)]
        /// Hive widths d (multiples of 8: sequence brains see d as 4 positions of d/4 features).
        public var widths: [Int] = [16, 32, 32, 64]
        public var combines: [(CombineMode, Double)] = [(.concat, 0.35), (.add, 0.30), (.average, 0.20), (.gridScatter, 0.15)]
        /// Learning rates are log-uniform in this range.
        public var learningRates: ClosedRange<Double> = 1e-4...1e-2
        public var activations: [Activation] = [.relu, .gelu, .tanh, .silu, .leakyReLU(slope: 0.01)]
        public init() {}
    }

    public struct Candidate: Sendable {
        public let index: Int
        public let spec: NetworkSpec
        public let brains: [Brain]
        public let grid: (rows: Int, cols: Int)
        public let width: Int
        public let combine: CombineMode
        public let learningRate: Double

        /// "2×2 concat of dense, attention, lstm, dense; d 32; lr 0.0012".
        public var summary: String {
            "\(grid.rows)×\(grid.cols) \(combine.rawValue) of \(brains.map { $0.rawValue }.joined(separator: ", ")); d \(width); lr \(learningRate)"
        }
    }

    /// `count` candidates for inputs of `inputWidth` features and `outputs` outputs. Candidate i
    /// draws from Philox(seed) on streams named "arch:i:…". Errors: a non-positive count or
    /// size, widths that are not positive multiples of 8, empty choice lists or weights.
    public static func generate(count: Int, seed: UInt64, inputWidth: Int, outputs: Int, options: Options = Options()) throws(LoomError) -> [Candidate] {
        guard count > 0 else { throw LoomError(.invalidArgument, "architectures.count", "must be positive, got \(count)") }
        guard inputWidth > 0, outputs > 0 else { throw LoomError(.invalidArgument, "architectures", "input width and outputs must be positive") }
        guard !options.brains.isEmpty, !options.grids.isEmpty, !options.widths.isEmpty, !options.combines.isEmpty, !options.activations.isEmpty else {
            throw LoomError(.invalidArgument, "architectures.options", "every choice list must be non-empty")
        }
        guard options.widths.allSatisfy({ $0 > 0 && $0 % 8 == 0 }) else {
            throw LoomError(.invalidArgument, "architectures.widths", "must be positive multiples of 8, got \(options.widths)")
        }
        guard options.brains.allSatisfy({ $0.1 >= 0 }), options.brains.contains(where: { $0.1 > 0 }),
              options.combines.allSatisfy({ $0.1 >= 0 }), options.combines.contains(where: { $0.1 > 0 }) else {
            throw LoomError(.invalidArgument, "architectures.options", "weights must be non-negative with a positive sum")
        }
        guard options.learningRates.lowerBound > 0 else { throw LoomError(.invalidArgument, "architectures.learning_rates", "must be positive") }
        let rng = Philox(seed: seed)
        return (0..<count).map { i in
            func u(_ what: String, _ k: Int = 0) -> Double { rng.uniformDouble(stream: StreamID.of("arch:\(i):\(what)"), index: UInt64(k)) }
            func pick<X>(_ xs: [X], _ what: String, _ k: Int = 0) -> X { xs[Swift.min(xs.count - 1, Int(u(what, k) * Double(xs.count)))] }
            func weighted<X>(_ xs: [(X, Double)], _ what: String, _ k: Int = 0) -> X {
                let total = xs.reduce(0) { $0 + $1.1 }
                var r = u(what, k) * total
                for (x, w) in xs { if r < w { return x }; r -= w }
                return xs.last { $0.1 > 0 }!.0
            }
            let grid = pick(options.grids, "grid"), d = pick(options.widths, "width")
            let combine = weighted(options.combines, "combine")
            let lo = DetMath.log(options.learningRates.lowerBound), hi = DetMath.log(options.learningRates.upperBound)
            let lr = DetMath.exp(lo + (hi - lo) * u("lr"))
            let brains = (0..<(grid.0 * grid.1)).map { weighted(options.brains, "brain", $0) }
            let cells = brains.enumerated().map { k, b in brainSpec(b, d: d, activation: pick(options.activations, "activation", k)) }
            var parallel = ParallelSpec(branches: cells, combine: combine)
            if combine == .gridScatter {
                parallel.grid = GridSpec(rows: grid.0, cols: grid.1, layers: 1,
                                         positions: (0..<cells.count).map { [$0 / grid.1, $0 % grid.1, 0] })
            }
            let spec = NetworkSpec(name: "arch_\(i)", dtype: .f32, seed: seed &+ UInt64(i), inputShape: [inputWidth],
                                   layers: [.dense(units: d, activation: .linear, bias: true), .parallel(parallel), .flatten,
                                            .dense(units: d, activation: .relu, bias: true), .dense(units: outputs, activation: .linear, bias: true)])
            return Candidate(index: i, spec: spec, brains: brains, grid: grid, width: d, combine: combine, learningRate: lr)
        }
    }

    /// One hive cell: `[d]` → `[d]`. Sequence brains read d as 4 positions of d/4 features.
    static func brainSpec(_ b: Brain, d: Int, activation: Activation) -> LayerSpec {
        let seq: [Int] = [4, d / 4]
        switch b {
        case .dense: return .dense(units: d, activation: activation, bias: true)
        case .normDense: return .sequential([.layerNorm(epsilon: 1e-5, affine: true), .dense(units: d, activation: activation, bias: true)])
        case .swiglu: return .swiglu(hidden: 2 * d, units: d, bias: false)
        case .attention: return .sequential([.reshape(shape: seq), .multiHeadAttention(AttentionSpec(numHeads: 2)), .flatten])
        case .lstm, .rnn, .gru:
            let cell: RecurrentCell = b == .lstm ? .lstm : b == .rnn ? .rnn : .gru
            return .sequential([.reshape(shape: seq), .recurrent(RecurrentSpec(cell: cell, hiddenSize: d / 4)), .flatten])
        case .conv1d:
            // [channels 4, length d/4]: same-length convolution with 4 filters.
            return .sequential([.reshape(shape: seq), .conv(ConvSpec(rank: 1, filters: 4, kernel: [3], padding: [1], activation: activation)), .flatten])
        }
    }

    /// One candidate's search result.
    public struct Ranked: Sendable {
        public let candidate: Candidate
        public let parameters: Int
        public let validationLoss: Double
        public let validationAccuracy: Double?
        public let trainingSteps: Int
    }

    /// Trains every candidate for `epochs` epochs (AdamW at its learning rate, batches of
    /// `batchSize`, `validationSplit` of the samples held out by the seeded split) and ranks them
    /// by validation loss (ties: the lower index first). Deterministic for any thread count.
    public static func search(_ candidates: [Candidate], inputs: Tensor<Float>, targets: Tensor<Float>, loss: LossKind,
                              epochs: Int = 3, batchSize: Int = 32, validationSplit: Double = 0.25,
                              context: ComputeContext = SerialContext()) throws(LoomError) -> [Ranked] {
        guard epochs > 0 else { throw LoomError(.invalidArgument, "search.epochs", "must be positive, got \(epochs)") }
        guard validationSplit > 0 && validationSplit < 1 else {
            throw LoomError(.invalidArgument, "search.validation_split", "must be in (0, 1), got \(validationSplit)")
        }
        var out = [Ranked]()
        for c in candidates {
            let net = try Network<Float>(c.spec)
            let spec = TrainingSpec(loss: loss, optimizer: .adamw(lr: c.learningRate, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
                                    epochs: epochs, batchSize: batchSize, validationSplit: validationSplit, clip: .norm(5))
            let trainer = Trainer(network: net, spec: spec, context: context)
            let h = try trainer.fit(inputs: inputs, targets: targets)
            let last = h.epochs.last!
            out.append(Ranked(candidate: c, parameters: net.params.scalarCount, validationLoss: last.validationLoss ?? .infinity,
                              validationAccuracy: last.validationAccuracy, trainingSteps: trainer.globalStep))
        }
        return out.enumerated().sorted { a, b in
            a.element.validationLoss != b.element.validationLoss ? a.element.validationLoss < b.element.validationLoss : a.offset < b.offset
        }.map { $0.element }
    }
}
