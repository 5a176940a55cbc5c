import LoomCore

/// A compute context whose matrix products run on a GPU (`CUDADevice.gemm`, the canonical
/// fixed-order kernel) while everything else runs on `host` — the same bits as the CPU, for any
/// launch configuration. If the GPU fails during a run (out of memory, a lost device), the product
/// is computed by the host's kernel instead, which gives the same bits; `failures` counts those
/// and `lastError` says why.
public final class CUDAContext: ComputeContext {
    public let device: CUDADevice
    public let host: ComputeContext
    public private(set) var failures = 0
    public private(set) var lastError: LoomError? = nil
    /// Products computed on the GPU.
    public private(set) var products = 0

    public init(device: CUDADevice, host: ComputeContext) {
        self.device = device
        self.host = host
    }

    public var threads: Int { host.threads }
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) { host.parallelFor(count, body) }
    public var takesWholeGemm: Bool { true }

    public func sgemm(_ p: GemmProblem<Float>) {
        do { try device.gemm(p); products += 1 } catch { failures += 1; lastError = error; host.sgemm(p) }
    }

    public func dgemm(_ p: GemmProblem<Double>) {
        do { try device.gemm(p); products += 1 } catch { failures += 1; lastError = error; host.dgemm(p) }
    }

    public func ggufDotTile(type: UInt32, weights: UnsafeRawPointer, rowBytes: Int, rows: Range<Int>, cols: Int, tokens: Int,
                            codes: UnsafePointer<Int8>, scales: UnsafePointer<Float>, sums: UnsafePointer<Int32>,
                            into y: UnsafeMutablePointer<Float>, ldy: Int) -> Bool {
        host.ggufDotTile(type: type, weights: weights, rowBytes: rowBytes, rows: rows, cols: cols, tokens: tokens,
                         codes: codes, scales: scales, sums: sums, into: y, ldy: ldy)
    }

    public func detMap(_ f: DetFunction, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) -> Bool {
        host.detMap(f, x, y, count: count)
    }

    public func quantizeQ8(_ x: UnsafePointer<Float>, count: Int, codes: UnsafeMutablePointer<Int8>,
                           scales: UnsafeMutablePointer<Float>, sums: UnsafeMutablePointer<Int32>) -> Bool {
        host.quantizeQ8(x, count: count, codes: codes, scales: scales, sums: sums)
    }
}
