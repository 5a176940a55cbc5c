import LoomCore

/// The IR of one layer (docs/ir.md). A value type: decoding, encoding and building a network
/// all start from here.
public indirect enum LayerSpec: Equatable, Sendable {
    case dense(units: Int, activation: Activation, bias: Bool)
    case stitch(units: Int, bias: Bool)
    case embedding(vocab: Int, dim: Int)
    case layerNorm(epsilon: Double, affine: Bool)
    case rmsNorm(epsilon: Double, affine: Bool)
    case softmax(SoftmaxVariant)
    case dropout(rate: Double)
    case activation(Activation)
    case sequential([LayerSpec])
    case residual([LayerSpec])
    case parallel(ParallelSpec)
    case conv(ConvSpec)
    case pool(PoolSpec)
    case globalAvgPool
    case flatten
    case reshape(shape: [Int])
    case recurrent(RecurrentSpec)
    case kmeans(KMeansSpec)
    case multiHeadAttention(AttentionSpec)
    case swiglu(hidden: Int, units: Int?, bias: Bool)
    /// A dense layer (linear, `[out, in]`) whose weight is another layer's parameter, by name
    /// (e.g. a language model's output projection tied to its token embedding).
    case tiedDense(weight: String, bias: Bool)
    /// Adds a learned vector per position: `y[t] = x[t] + P[start + t]` (`start` > 0 when decoding with a KV cache).
    case positionEmbedding(maxPositions: Int)
    /// Adds a learned vector to every row of the last axis.
    case bias

    public var typeName: String {
        switch self {
        case .dense: return "dense"
        case .stitch: return "stitch"
        case .embedding: return "embedding"
        case .layerNorm: return "layer_norm"
        case .rmsNorm: return "rms_norm"
        case .softmax: return "softmax"
        case .dropout: return "dropout"
        case .activation: return "activation"
        case .sequential: return "sequential"
        case .residual: return "residual"
        case .parallel: return "parallel"
        case .conv(let c): return c.typeName
        case .pool(let p): return p.typeName
        case .globalAvgPool: return "global_avg_pool"
        case .flatten: return "flatten"
        case .reshape: return "reshape"
        case .recurrent(let r): return r.cell.rawValue
        case .kmeans: return "kmeans"
        case .multiHeadAttention: return "multi_head_attention"
        case .swiglu: return "swiglu"
        case .tiedDense: return "tied_dense"
        case .positionEmbedding: return "position_embedding"
        case .bias: return "bias"
        }
    }

    public static let typeNames = ["dense", "stitch", "embedding", "layer_norm", "rms_norm", "softmax", "dropout",
                                   "activation", "sequential", "residual", "parallel",
                                   "conv1d", "conv2d", "max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d",
                                   "global_avg_pool", "flatten", "reshape",
                                   "rnn", "lstm", "gru", "kmeans",
                                   "multi_head_attention", "swiglu", "tied_dense", "position_embedding", "bias"]
}

/// A `grid_scatter` placement: one (row, col, layer) cell per branch.
public struct GridSpec: Equatable, Sendable {
    public var rows: Int, cols: Int, layers: Int
    public var positions: [[Int]]
    public init(rows: Int, cols: Int, layers: Int, positions: [[Int]]) {
        self.rows = rows; self.cols = cols; self.layers = layers; self.positions = positions
    }
}

public struct ParallelSpec: Equatable, Sendable {
    public var branches: [LayerSpec]
    public var combine: CombineMode
    public var gate: LayerSpec?
    public var gateSoftmax: SoftmaxVariant
    public var grid: GridSpec?
    public init(branches: [LayerSpec], combine: CombineMode, gate: LayerSpec? = nil,
                gateSoftmax: SoftmaxVariant = .standard, grid: GridSpec? = nil) {
        self.branches = branches; self.combine = combine; self.gate = gate
        self.gateSoftmax = gateSoftmax; self.grid = grid
    }
}

/// A whole network: the top-level IR object.
public struct NetworkSpec: Equatable, Sendable {
    public static let currentVersion = 1
    public var name: String
    public var dtype: DType
    public var seed: UInt64
    /// Shape of one sample (no batch axis).
    public var inputShape: [Int]
    public var layers: [LayerSpec]
    public var training: TrainingSpec?

    public init(name: String = "", dtype: DType = .f32, seed: UInt64 = 0, inputShape: [Int],
                layers: [LayerSpec], training: TrainingSpec? = nil) {
        self.name = name; self.dtype = dtype; self.seed = seed
        self.inputShape = inputShape; self.layers = layers; self.training = training
    }
}
