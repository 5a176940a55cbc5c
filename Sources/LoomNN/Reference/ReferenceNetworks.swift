import LoomCore

/// The golden reference networks: every layer, activation and combine mode of the IR, each run
/// forward and trained for a few steps. Their hashes (Fixtures/golden/reference-hashes.txt) are
/// what every backend, thread count, platform and binding must reproduce.
public enum ReferenceNetworks {
    public struct Case {
        public var name: String
        public var spec: NetworkSpec
        public var loss: LossKind
    }

    static let trainingSpec = TrainingSpec(
        loss: .mse, optimizer: .adamw(lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
        scheduler: .warmup(steps: 5, startFactor: 0.2, after: .cosine(totalSteps: 15, minLR: 0.001)),
        epochs: 1, batchSize: 8, clip: .norm(5))

    /// All cases for one dtype.
    public static func cases(dtype: DType) -> [Case] {
        var out = [Case]()
        func add(_ name: String, _ input: [Int], _ layers: [LayerSpec], loss: LossKind = .mse) {
            var t = trainingSpec
            t.loss = loss
            out.append(Case(name: "\(name).\(dtype.name)",
                            spec: NetworkSpec(name: name, dtype: dtype, seed: 1234, inputShape: input, layers: layers, training: t),
                            loss: loss))
        }
        let acts: [Activation] = [.linear, .relu, .scaledReLU(scale: 1.1), .leakyReLU(slope: 0.01), .sigmoid, .tanh,
                                  .softplus(threshold: 20), .gelu, .geluTanh, .silu, .mish, .elu(alpha: 1), .selu]
        for a in acts {
            add("dense_\(a.name)", [6], [.dense(units: 7, activation: a, bias: true), .dense(units: 3, activation: .linear, bias: true)])
        }
        add("dense_no_bias", [5], [.dense(units: 4, activation: .tanh, bias: false)])
        add("stitch", [6], [.stitch(units: 9, bias: true), .activation(.gelu), .stitch(units: 2, bias: false)])
        add("embedding", [5], [.embedding(vocab: 11, dim: 6), .layerNorm(epsilon: 1e-5, affine: true),
                               .dense(units: 3, activation: .linear, bias: true)])
        add("layer_norm", [2, 8], [.dense(units: 8, activation: .linear, bias: true), .layerNorm(epsilon: 1e-5, affine: true),
                                   .layerNorm(epsilon: 1e-3, affine: false), .dense(units: 2, activation: .linear, bias: true)])
        add("rms_norm", [8], [.dense(units: 8, activation: .silu, bias: true), .rmsNorm(epsilon: 1e-6, affine: true),
                              .rmsNorm(epsilon: 1e-5, affine: false), .dense(units: 3, activation: .linear, bias: true)])
        add("softmax_standard", [6], [.dense(units: 5, activation: .linear, bias: true), .softmax(.standard)])
        add("softmax_temperature", [6], [.dense(units: 5, activation: .linear, bias: true), .softmax(.temperature(0.5))])
        add("softmax_masked", [6], [.dense(units: 5, activation: .linear, bias: true), .softmax(.masked([true, false, true, true, false]))])
        add("softmax_grid", [6], [.dense(units: 6, activation: .linear, bias: true), .softmax(.grid(rows: 2, cols: 3))])
        add("cross_entropy", [6], [.dense(units: 8, activation: .relu, bias: true), .dense(units: 4, activation: .linear, bias: true)],
            loss: .crossEntropy)
        add("bce", [6], [.dense(units: 8, activation: .tanh, bias: true), .dense(units: 3, activation: .linear, bias: true)], loss: .bce)
        add("dropout", [6], [.dense(units: 12, activation: .relu, bias: true), .dropout(rate: 0.25),
                             .dense(units: 3, activation: .linear, bias: true)])
        add("activation_layer", [6], [.activation(.mish), .dense(units: 4, activation: .linear, bias: true), .activation(.elu(alpha: 0.5))])
        add("residual", [6], [.residual([.dense(units: 10, activation: .gelu, bias: true), .dense(units: 6, activation: .linear, bias: true)]),
                              .dense(units: 2, activation: .linear, bias: true)])
        add("sequential_nested", [6], [.sequential([.dense(units: 5, activation: .tanh, bias: true),
                                                    .sequential([.rmsNorm(epsilon: 1e-6, affine: true),
                                                                  .residual([.dense(units: 5, activation: .relu, bias: true)])])]),
                                       .dense(units: 2, activation: .linear, bias: true)])
        let three: [LayerSpec] = [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 4, activation: .sigmoid, bias: true),
                                  .dense(units: 4, activation: .gelu, bias: true)]
        for mode in [CombineMode.add, .multiply, .average] {
            add("parallel_\(mode.rawValue)", [6], [.parallel(ParallelSpec(branches: three, combine: mode)),
                                                   .dense(units: 2, activation: .linear, bias: true)])
        }
        let uneven: [LayerSpec] = [.dense(units: 2, activation: .relu, bias: true), .dense(units: 3, activation: .tanh, bias: true),
                                   .sequential([.dense(units: 4, activation: .silu, bias: true), .stitch(units: 5, bias: true)])]
        add("parallel_concat", [6], [.parallel(ParallelSpec(branches: uneven, combine: .concat)), .dense(units: 2, activation: .linear, bias: true)])
        add("parallel_grid_scatter", [6], [.parallel(ParallelSpec(branches: uneven, combine: .gridScatter,
                                                                  grid: GridSpec(rows: 2, cols: 2, layers: 1, positions: [[1, 1, 0], [0, 0, 0], [1, 0, 0]]))),
                                           .dense(units: 2, activation: .linear, bias: true)])
        add("parallel_filter", [6], [.parallel(ParallelSpec(branches: three, combine: .filter,
                                                            gate: .dense(units: 3, activation: .linear, bias: true),
                                                            gateSoftmax: .temperature(0.7))),
                                     .dense(units: 2, activation: .linear, bias: true)])
        add("deep_mix", [2, 6], [.residual([.layerNorm(epsilon: 1e-5, affine: true),
                                            .parallel(ParallelSpec(branches: [.dense(units: 6, activation: .selu, bias: true),
                                                                              .sequential([.dense(units: 3, activation: .geluTanh, bias: true),
                                                                                           .stitch(units: 6, bias: true)])],
                                                                   combine: .filter, gate: .dense(units: 2, activation: .linear, bias: false)))]),
                                 .dropout(rate: 0.1), .softmax(.grid(rows: 2, cols: 3))])
        add("conv1d_net", [2, 12], [.conv(ConvSpec(rank: 1, filters: 4, kernel: [3], padding: [1], activation: .relu)),
                                    .pool(PoolSpec(kind: .max, rank: 1, kernel: [2])),
                                    .conv(ConvSpec(rank: 1, filters: 4, kernel: [3], stride: [2], groups: 2, bias: false, activation: .tanh)),
                                    .pool(PoolSpec(kind: .avg, rank: 1, kernel: [2], stride: [1], padding: [1])),
                                    .reshape(shape: [2, -1]), .globalAvgPool, .dense(units: 3, activation: .linear, bias: true)])
        add("cnn", [2, 8, 8], [.conv(ConvSpec(rank: 2, filters: 4, kernel: [3, 3], padding: [1, 1], activation: .relu)),
                               .pool(PoolSpec(kind: .max, rank: 2, kernel: [2, 2])),
                               .conv(ConvSpec(rank: 2, filters: 4, kernel: [3, 3], padding: [2, 2], dilation: [2, 2], groups: 4, activation: .silu)),
                               .pool(PoolSpec(kind: .avg, rank: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1])),
                               .flatten, .dense(units: 3, activation: .linear, bias: true)])
        add("rnn", [5, 3], [.recurrent(RecurrentSpec(cell: .rnn, hiddenSize: 6, returnSequences: true)),
                            .dense(units: 2, activation: .linear, bias: true)])
        add("lstm", [6, 3], [.recurrent(RecurrentSpec(cell: .lstm, hiddenSize: 5, returnSequences: false)),
                             .dense(units: 3, activation: .linear, bias: true)])
        add("gru", [4, 3], [.recurrent(RecurrentSpec(cell: .gru, hiddenSize: 5, returnSequences: true, bias: false)),
                            .recurrent(RecurrentSpec(cell: .gru, hiddenSize: 4, returnSequences: false)),
                            .dense(units: 2, activation: .linear, bias: true)])
        // Softmax family and kmeans (Softmax+Family.swift, Softmax+Sparse.swift, KMeans.swift).
        add("softmax_hierarchical", [6], [.dense(units: 8, activation: .linear, bias: true), .softmax(.hierarchical(levels: [2, 2, 2]))])
        add("softmax_gumbel", [6], [.dense(units: 5, activation: .linear, bias: true), .softmax(.gumbel(temperature: 0.7))])
        add("softmax_sparsemax", [6], [.dense(units: 6, activation: .linear, bias: true), .softmax(.sparsemax)])
        add("softmax_entmax", [6], [.dense(units: 6, activation: .linear, bias: true), .softmax(.entmax(alpha: 1.5)),
                                    .dense(units: 6, activation: .linear, bias: true), .softmax(.entmax(alpha: 1.3))])
        add("softmax_adaptive", [6], [.dense(units: 9, activation: .linear, bias: true), .softmax(.adaptive(headSize: 3, clusters: [2, 2]))])
        add("softmax_mixture", [6], [.dense(units: 10, activation: .linear, bias: true), .softmax(.mixture(components: 2))])
        for d in KMeansDistance.allCases {
            add("kmeans_\(d.rawValue)", [6], [.dense(units: 4, activation: .tanh, bias: true),
                                              .kmeans(KMeansSpec(clusters: 3, distance: d, temperature: 0.5, output: .features)),
                                              .kmeans(KMeansSpec(clusters: 3, dim: 4, distance: d, temperature: 1, output: .probabilities))])
        }
        add("attention_causal_rope_gqa", [6, 8],
            [.residual([.rmsNorm(epsilon: 1e-6, affine: true),
                        .multiHeadAttention(AttentionSpec(numHeads: 4, numKVHeads: 2, causal: true, rope: RoPESpec(layout: .half, base: 10000)))]),
             .residual([.rmsNorm(epsilon: 1e-6, affine: true), .swiglu(hidden: 16, units: nil, bias: false)]),
             .dense(units: 3, activation: .linear, bias: true)])
        add("attention_interleaved_bias", [5, 12],
            [.multiHeadAttention(AttentionSpec(numHeads: 3, headDim: 6, causal: false, bias: true, rope: RoPESpec(layout: .interleaved, base: 500))),
             .dense(units: 2, activation: .linear, bias: true)])
        add("swiglu", [6], [.swiglu(hidden: 10, units: nil, bias: false), .swiglu(hidden: 7, units: 3, bias: true)])
        add("lm_tied", [5], [.embedding(vocab: 11, dim: 8), .positionEmbedding(maxPositions: 9), .bias,
                             .residual([.rmsNorm(epsilon: 1e-6, affine: true),
                                        .multiHeadAttention(AttentionSpec(numHeads: 2, causal: true))]),
                             .rmsNorm(epsilon: 1e-6, affine: true), .tiedDense(weight: "layers.0.weight", bias: false)],
            loss: .crossEntropy)
        return out
    }

    /// Deterministic inputs for a case: Philox uniforms in [−2, 2] (token ids for embeddings).
    public static func input<T: LoomFloat>(_ c: Case, batch: Int, as: T.Type) -> Tensor<T> {
        let shape = [batch] + c.spec.inputShape
        let n = Tensor<T>.count(of: shape)
        let rng = Philox(seed: 99)
        let stream = StreamID.of("input:" + c.spec.name)
        var data = [T](repeating: 0, count: n)
        var vocab = 0
        if case .embedding(let v, _) = c.spec.layers[0] { vocab = v }
        for i in 0..<n {
            if vocab > 0 {
                data[i] = T(Double(rng.uint32(stream: stream, index: UInt64(i)) % UInt32(vocab)))
            } else {
                data[i] = T(4 * rng.uniformDouble(stream: stream, index: UInt64(i)) - 2)
            }
        }
        return Tensor(uncheckedShape: shape, data: data)
    }

    /// Targets for training a case.
    public static func target<T: LoomFloat>(_ c: Case, output: [Int], batch: Int, as: T.Type) -> Tensor<T> {
        let rng = Philox(seed: 77)
        let stream = StreamID.of("target:" + c.spec.name)
        let classes = output.last ?? 1
        switch c.loss {
        case .crossEntropy:
            let rows = batch * Tensor<T>.count(of: Array(output.dropLast()))
            return Tensor(uncheckedShape: [rows], data: (0..<rows).map { T(Double(rng.uint32(stream: stream, index: UInt64($0)) % UInt32(classes))) })
        case .bce:
            let n = batch * Tensor<T>.count(of: output)
            return Tensor(uncheckedShape: [batch] + output, data: (0..<n).map { T(Double(rng.uint32(stream: stream, index: UInt64($0)) & 1)) })
        case .mse:
            let n = batch * Tensor<T>.count(of: output)
            return Tensor(uncheckedShape: [batch] + output, data: (0..<n).map { T(rng.uniformDouble(stream: stream, index: UInt64($0)) - 0.5) })
        }
    }

    public static let forwardBatch = 8
    public static let trainingSteps = 20
    /// Training cycles over this many samples in batches of 8: step s uses samples (s mod 4)·8 ..< +8.
    public static let trainingSamples = 32

    /// Runs one case in type T on `context`: the forward hash of a batch of 8, and the hash of
    /// every parameter after 20 training steps (batches of 8 cycling over 32 samples).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func run<T: LoomFloat>(_ c: Case, as: T.Type, context: ComputeContext,
                                         prepare: ((Trainer<T>) -> Void)? = nil) throws(LoomError) -> (forward: String, trained: String) {
        let net = try Network<T>(c.spec)
        let x = input(c, batch: forwardBatch, as: T.self)
        let y = try net.forward(x, context: context)
        let data = input(c, batch: trainingSamples, as: T.self)
        let targets = target(c, output: net.outputShape, batch: trainingSamples, as: T.self)
        let trainer = Trainer(network: net, spec: c.spec.training!, context: context)
        prepare?(trainer)
        let per = c.loss == .crossEntropy ? targets.count / trainingSamples : 0
        for s in 0..<trainingSteps {
            let r = ((s % 4) * 8)..<((s % 4) * 8 + 8)
            let xb = data.batchSlice(r)
            let tb = per > 0 ? Tensor(uncheckedShape: [8 * per], data: Array(targets.data[(r.lowerBound * per)..<(r.upperBound * per)]))
                             : targets.batchSlice(r)
            try trainer.step(xb, tb)
        }
        try trainer.synchronize()
        return (y.bitHash.hex, net.params.bitHash.hex)
    }

    /// The dtypes after f32 and f64, in the golden file's order.
    public static let executionDTypes: [DType] = [.f16, .bf16, .f4, .i64, .i32, .i16, .i8, .u64, .u32, .u16, .u8]

    /// Every case in the golden file's order: f32, f64, then `executionDTypes`.
    public static var allCases: [Case] {
        [DType.f32, .f64].flatMap { cases(dtype: $0) } + executionDTypes.flatMap { cases(dtype: $0) }
    }

    /// `name.forward hash` and `name.train20 hash` lines for every case: f32, then f64, then
    /// every other dtype (executed over f32 master weights: `Execution`).
    public static func hashLines(context: ComputeContext, prepare: TrainerPreparation = TrainerPreparation()) throws(LoomError) -> [String] {
        var lines = [String]()
        func add(_ c: Case, _ r: (forward: String, trained: String)) {
            lines.append("\(c.name).forward \(r.forward)")
            lines.append("\(c.name).train\(trainingSteps) \(r.trained)")
        }
        for c in cases(dtype: .f32) { add(c, try run(c, as: Float.self, context: context, prepare: prepare.float)) }
        for c in cases(dtype: .f64) { add(c, try run(c, as: Double.self, context: context, prepare: prepare.double)) }
        for dt in executionDTypes {
            for c in cases(dtype: dt) { add(c, try run(c, as: Float.self, context: context, prepare: prepare.float)) }
        }
        return lines
    }
}

/// What to do to each reference case's trainer before it trains (attach an accelerator).
public struct TrainerPreparation {
    public var float: ((Trainer<Float>) -> Void)?
    public var double: ((Trainer<Double>) -> Void)?
    public init(float: ((Trainer<Float>) -> Void)? = nil, double: ((Trainer<Double>) -> Void)? = nil) {
        self.float = float; self.double = double
    }
}
