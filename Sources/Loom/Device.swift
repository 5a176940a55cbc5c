import LoomCore
import LoomGPU

/// Where a computation runs. Results are bit-identical on every device (docs/gpu.md); the choice
/// changes speed only.
public enum Device: Equatable, Sendable, CustomStringConvertible {
    case cpu
    /// An NVIDIA GPU by index (CUDA driver and NVRTC loaded at run time).
    case cuda(index: Int)

    /// "cpu", "cuda" (GPU 0) or "cuda:N".
    public init(parsing text: String) throws(LoomError) {
        if text == "cpu" { self = .cpu; return }
        if text == "cuda" { self = .cuda(index: 0); return }
        if text.hasPrefix("cuda:"), let i = Int(text.dropFirst(5)), i >= 0 { self = .cuda(index: i); return }
        throw LoomError(.invalidArgument, "--device", "cpu, cuda or cuda:N, got \"\(text)\"")
    }

    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let i): return "cuda:\(i)"
        }
    }

    /// A compute context on this device with `threads` host threads (nil: every core). For a GPU,
    /// throws a device error saying what is missing (driver, GPU, NVRTC) and what to do.
    public func context(threads: Int? = nil) throws(LoomError) -> ComputeContext {
        let host = CPUContext(threads: threads)
        switch self {
        case .cpu: return host
        case .cuda(let i): return CUDAContext(device: try CUDADevice(index: i), host: host)
        }
    }
}
