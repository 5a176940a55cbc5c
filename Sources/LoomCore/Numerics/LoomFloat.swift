/// The floating-point types a network computes in: `Float` (F32) and `Double` (F64).
///
/// Every operation that generic layer code needs beyond IEEE `+ − × ÷ sqrt` is a static
/// requirement here and forwards to the project's own deterministic functions (`DetMath`), so
/// a layer written once over `T: LoomFloat` gives the same bits on every platform.
public protocol LoomFloat: BinaryFloatingPoint, Sendable, SIMDScalar where RawSignificand: FixedWidthInteger {
    /// The storage type of this float.
    static var dtype: DType { get }
    /// The IEEE bit pattern widened to 64 bits (for hashing and exact serialisation).
    var bits64: UInt64 { get }
    init(bits64: UInt64)
    /// Exact conversion from/to `Double` (exact for Float → Double; Double → Float rounds to nearest even).
    init(_ d: Double)
    var double: Double { get }

    static func detExp(_ x: Self) -> Self
    static func detExpm1(_ x: Self) -> Self
    static func detLog(_ x: Self) -> Self
    static func detLog1p(_ x: Self) -> Self
    static func detTanh(_ x: Self) -> Self
    static func detSigmoid(_ x: Self) -> Self
    static func detSoftplus(_ x: Self) -> Self
    static func detErf(_ x: Self) -> Self
    static func detSin(_ x: Self) -> Self
    static func detCos(_ x: Self) -> Self
    static func detPow(_ x: Self, _ y: Self) -> Self

    /// C[i,j] = fma-chain over k (see `Gemm.swift` for the canonical definition), computed by `context`.
    static func gemmKernel(_ context: ComputeContext, _ p: GemmProblem<Self>)
}

extension Float: LoomFloat {
    public static var dtype: DType { .f32 }
    @inline(__always) public var bits64: UInt64 { UInt64(bitPattern) }
    @inline(__always) public init(bits64: UInt64) { self.init(bitPattern: UInt32(truncatingIfNeeded: bits64)) }
    @inline(__always) public var double: Double { Double(self) }
    @inline(__always) public static func detExp(_ x: Float) -> Float { DetMath.exp(x) }
    @inline(__always) public static func detExpm1(_ x: Float) -> Float { DetMath.expm1(x) }
    @inline(__always) public static func detLog(_ x: Float) -> Float { DetMath.log(x) }
    @inline(__always) public static func detLog1p(_ x: Float) -> Float { DetMath.log1p(x) }
    @inline(__always) public static func detTanh(_ x: Float) -> Float { DetMath.tanh(x) }
    @inline(__always) public static func detSigmoid(_ x: Float) -> Float { DetMath.sigmoid(x) }
    @inline(__always) public static func detSoftplus(_ x: Float) -> Float { DetMath.softplus(x) }
    @inline(__always) public static func detErf(_ x: Float) -> Float { DetMath.erf(x) }
    @inline(__always) public static func detSin(_ x: Float) -> Float { DetMath.sin(x) }
    @inline(__always) public static func detCos(_ x: Float) -> Float { DetMath.cos(x) }
    @inline(__always) public static func detPow(_ x: Float, _ y: Float) -> Float { DetMath.pow(x, y) }
    public static func gemmKernel(_ context: ComputeContext, _ p: GemmProblem<Float>) { context.sgemm(p) }
}

extension Double: LoomFloat {
    public static var dtype: DType { .f64 }
    @inline(__always) public var bits64: UInt64 { bitPattern }
    @inline(__always) public init(bits64: UInt64) { self.init(bitPattern: bits64) }
    @inline(__always) public var double: Double { self }
    @inline(__always) public static func detExp(_ x: Double) -> Double { DetMath.exp(x) }
    @inline(__always) public static func detExpm1(_ x: Double) -> Double { DetMath.expm1(x) }
    @inline(__always) public static func detLog(_ x: Double) -> Double { DetMath.log(x) }
    @inline(__always) public static func detLog1p(_ x: Double) -> Double { DetMath.log1p(x) }
    @inline(__always) public static func detTanh(_ x: Double) -> Double { DetMath.tanh(x) }
    @inline(__always) public static func detSigmoid(_ x: Double) -> Double { DetMath.sigmoid(x) }
    @inline(__always) public static func detSoftplus(_ x: Double) -> Double { DetMath.softplus(x) }
    @inline(__always) public static func detErf(_ x: Double) -> Double { DetMath.erf(x) }
    @inline(__always) public static func detSin(_ x: Double) -> Double { DetMath.sin(x) }
    @inline(__always) public static func detCos(_ x: Double) -> Double { DetMath.cos(x) }
    @inline(__always) public static func detPow(_ x: Double, _ y: Double) -> Double { DetMath.pow(x, y) }
    public static func gemmKernel(_ context: ComputeContext, _ p: GemmProblem<Double>) { context.dgemm(p) }
}
