/// One matrix product in the canonical fixed order (see `Gemm.swift`).
///
/// `A(i,k) = a[i*rsA + k*csA]`, `B(k,j) = b[k*rsB + j*csB]`, `C(i,j) = c[i*ldc + j]`.
public struct GemmProblem<T> {
    public var m: Int, n: Int, k: Int
    public var a: UnsafePointer<T>, rsA: Int, csA: Int
    public var b: UnsafePointer<T>, rsB: Int, csB: Int
    public var c: UnsafeMutablePointer<T>, ldc: Int
    /// When true the chain starts from the value already in C (used for the bias and for
    /// gradient accumulation); otherwise from +0.0.
    public var accumulate: Bool

    public init(m: Int, n: Int, k: Int,
                a: UnsafePointer<T>, rsA: Int, csA: Int,
                b: UnsafePointer<T>, rsB: Int, csB: Int,
                c: UnsafeMutablePointer<T>, ldc: Int, accumulate: Bool) {
        self.m = m; self.n = n; self.k = k
        self.a = a; self.rsA = rsA; self.csA = csA
        self.b = b; self.rsB = rsB; self.csB = csB
        self.c = c; self.ldc = ldc; self.accumulate = accumulate
    }
}

/// Where Core's work runs. Core never creates threads: it asks its context to run independent
/// chunks, and the native module supplies a context backed by threads and SIMD kernels.
///
/// Contract: `parallelFor(count, body)` calls `body(i)` exactly once for each `i` in `0..<count`,
/// in any order and on any thread, and returns when all calls have returned. Bodies write to
/// disjoint memory, so the result never depends on the schedule. The gemm entry points compute
/// the whole problem single-threaded with exactly the canonical per-element order.
public protocol ComputeContext: AnyObject {
    /// How many chunks work is split into (≥ 1). Never changes any result.
    var threads: Int { get }
    func parallelFor(_ count: Int, _ body: (Int) -> Void)
    func sgemm(_ p: GemmProblem<Float>)
    func dgemm(_ p: GemmProblem<Double>)
    /// GGUF weight rows `rows` (ggml type `type`) times `tokens` rows of Q8 activation blocks (row
    /// t: codes `codes + t·cols`, scales and sums `+ t·cols/32`) into `y[t·ldy + r]`, bit for bit
    /// `GGUFDot.row`; returns false (writing nothing) when the context has no kernel for it.
    func ggufDotTile(type: UInt32, weights: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, cols: Int, tokens: Int,
                     codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Int32>,
                     into y: UnsafeMutablePointer<Float>, ldy: Int) -> Bool
    /// `count` values (a multiple of 32) to Loom's 8-bit activation blocks, bit for bit
    /// `GGUFQ8Activations`'s portable loop; returns false (writing nothing) without a kernel.
    func quantizeQ8(_ x: UnsafePointer<Float>, count: Int, codes: UnsafeMutablePointer<Int8>,
                    scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>) -> Bool
    /// `y[i] = f(x[i])` for `i < count` in Float, bit for bit `DetMath`'s Float overload (x and y may
    /// be the same memory); returns false (writing nothing) when the context has no kernel for it.
    func detMap(_ f: DetFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) -> Bool
    /// True for a context whose gemm entry points run on a device that splits the work itself
    /// (a GPU): `Gemm.run` then hands it every product whole instead of splitting by host threads.
    var takesWholeGemm: Bool { get }
}

extension ComputeContext {
    public func ggufDotTile(type: UInt32, weights: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, cols: Int, tokens: Int,
                            codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Int32>,
                            into y: UnsafeMutablePointer<Float>, ldy: Int) -> Bool { false }
    public func quantizeQ8(_ x: UnsafePointer<Float>, count: Int, codes: UnsafeMutablePointer<Int8>,
                           scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>) -> Bool { false }
    public var takesWholeGemm: Bool { false }
    public func detMap(_ f: DetFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) -> Bool { false }
}

/// The DetMath functions a context can map over arrays (`ComputeContext.detMap`, `DetFunction.map`).
public enum DetFunction: Int32, Sendable, CaseIterable {
    case exp = 0, sigmoid = 1, tanh = 2, erf = 3

    @inline(__always)
    public func apply<T: LoomFloat>(_ x: T) -> T {
        switch self {
        case .exp: return T.detExp(x)
        case .sigmoid: return T.detSigmoid(x)
        case .tanh: return T.detTanh(x)
        case .erf: return T.detErf(x)
        }
    }
}

extension DetFunction {
    /// `y[i] = apply(x[i])` for `i < count` (x and y may be the same memory), on this thread:
    /// `context`'s vector kernel for Float when it has one (the same bits), else the scalar loop.
    /// A generic function of this enum rather than of the protocol, so that Embedded Swift (wasm)
    /// can specialize it for a context it only knows as an existential.
    @inline(__always)
    public func map<T: LoomFloat>(_ context: ComputeContext, _ x: UnsafePointer<T>, _ y: UnsafeMutablePointer<T>, count: Int) {
        if count <= 0 { return }
        if T.self == Float.self,
           context.detMap(self, UnsafeRawPointer(x).assumingMemoryBound(to: Float.self),
                          UnsafeMutableRawPointer(y).assumingMemoryBound(to: Float.self), count: count) { return }
        var i = 0
        while i < count { y[i] = apply(x[i]); i += 1 }
    }
}

/// The portable context: one thread, reference kernels. Used by the WebAssembly build and as the
/// definition that every faster context must reproduce bit for bit.
public final class SerialContext: ComputeContext {
    public init() {}
    public var threads: Int { 1 }
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        var i = 0
        while i < count { body(i); i += 1 }
    }
    public func sgemm(_ p: GemmProblem<Float>) { ReferenceGemm.run(p) }
    public func dgemm(_ p: GemmProblem<Double>) { ReferenceGemm.run(p) }
}

extension ComputeContext {
    /// Splits `0..<total` into at most `threads` contiguous ranges of at least `minChunk` items
    /// and runs `body(range)` on each. The split changes scheduling only, never results.
    /// Always inlined: Embedded Swift (wasm) emits this protocol-extension method in LoomCore only
    /// as a stub, so a call that another module left out of line would link to the stub and trap.
    @inline(__always)
    public func parallelRanges(_ total: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
        if total <= 0 { return }
        let chunks = Swift.max(1, Swift.min(threads, total / Swift.max(1, minChunk)))
        if chunks == 1 { body(0..<total); return }
        let base = total / chunks, extra = total % chunks
        parallelFor(chunks) { c in
            let lo = c * base + Swift.min(c, extra)
            let hi = lo + base + (c < extra ? 1 : 0)
            body(lo..<hi)
        }
    }
}
