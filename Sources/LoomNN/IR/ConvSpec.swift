import LoomCore

/// A `conv1d` (`rank` 1) or `conv2d` (`rank` 2) layer (docs/ir.md). Every spatial field has one
/// entry per spatial axis (`[k]` for conv1d, `[kh, kw]` for conv2d), already expanded from the
/// IR's single-integer shorthand.
public struct ConvSpec: Equatable, Sendable {
    public var rank: Int
    /// Output channels.
    public var filters: Int
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]
    public var dilation: [Int]
    public var groups: Int
    public var bias: Bool
    public var activation: Activation

    public init(rank: Int, filters: Int, kernel: [Int], stride: [Int]? = nil, padding: [Int]? = nil,
                dilation: [Int]? = nil, groups: Int = 1, bias: Bool = true, activation: Activation = .linear) {
        self.rank = rank
        self.filters = filters
        self.kernel = kernel
        self.stride = stride ?? [Int](repeating: 1, count: rank)
        self.padding = padding ?? [Int](repeating: 0, count: rank)
        self.dilation = dilation ?? [Int](repeating: 1, count: rank)
        self.groups = groups
        self.bias = bias
        self.activation = activation
    }

    public var typeName: String { rank == 1 ? "conv1d" : "conv2d" }
}

/// Which pooling a `PoolSpec` does.
public enum PoolKind: String, Equatable, Sendable {
    case max, avg
}

/// `max_pool1d/2d` and `avg_pool1d/2d` (docs/ir.md). `stride` defaults to the kernel size when
/// decoded; average pooling counts padding taps in its divisor (PyTorch's `count_include_pad=True`).
public struct PoolSpec: Equatable, Sendable {
    public var kind: PoolKind
    public var rank: Int
    public var kernel: [Int]
    public var stride: [Int]
    public var padding: [Int]

    public init(kind: PoolKind, rank: Int, kernel: [Int], stride: [Int]? = nil, padding: [Int]? = nil) {
        self.kind = kind
        self.rank = rank
        self.kernel = kernel
        self.stride = stride ?? kernel
        self.padding = padding ?? [Int](repeating: 0, count: rank)
    }

    public var typeName: String { "\(kind.rawValue)_pool\(rank)d" }
}
