import Glibc
import LoomCore

/// NVRTC, CUDA's run-time compiler, loaded with dlopen: generated kernel source → CUBIN for one
/// architecture, with options that keep IEEE semantics (no contraction, correctly rounded division
/// and square root, no flush-to-zero). Compiled modules are cached in memory by source, options
/// and architecture.
public final class NVRTC {
    typealias FVersion = @convention(c) (UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<Int32>?) -> Int32
    typealias FCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32,
                                        UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias FCompile = @convention(c) (OpaquePointer?, Int32, UnsafePointer<UnsafePointer<CChar>?>?) -> Int32
    typealias FSize = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Int>?) -> Int32
    typealias FBytes = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?) -> Int32
    typealias FDestroy = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?) -> Int32

    let library: DynamicLibrary
    let nvrtcCreateProgram: FCreate, nvrtcCompileProgram: FCompile, nvrtcDestroyProgram: FDestroy
    let nvrtcGetProgramLogSize: FSize, nvrtcGetProgramLog: FBytes, nvrtcGetCUBINSize: FSize, nvrtcGetCUBIN: FBytes
    /// (major, minor) of the loaded NVRTC.
    public let version: (Int32, Int32)

    /// The options every Loom kernel is compiled with (docs/gpu.md): no fused multiply-add unless
    /// the source writes one (`__fmaf_rn`), IEEE division and square root, denormals kept.
    public static func options(arch: String) -> [String] {
        ["--gpu-architecture=\(arch)", "--fmad=false", "--prec-div=true", "--prec-sqrt=true", "--ftz=false",
         "-default-device", "--std=c++17"]
    }

    /// Finds NVRTC: $LOOM_NVRTC (a path), else the usual sonames (CUDA 13, 12).
    public init() throws(LoomError) {
        var names = ["libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12"]
        if let p = getenv("LOOM_NVRTC") { names.insert(String(cString: p), at: 0) }
        guard let lib = DynamicLibrary.open(names) else {
            throw LoomError(.device, "nvrtc", "the CUDA run-time compiler (libnvrtc.so) was not found: install the CUDA toolkit or `pip install nvidia-cuda-nvrtc` and set LOOM_NVRTC to its libnvrtc.so")
        }
        library = lib
        nvrtcCreateProgram = try lib.symbol("nvrtcCreateProgram", as: FCreate.self)
        nvrtcCompileProgram = try lib.symbol("nvrtcCompileProgram", as: FCompile.self)
        nvrtcDestroyProgram = try lib.symbol("nvrtcDestroyProgram", as: FDestroy.self)
        nvrtcGetProgramLogSize = try lib.symbol("nvrtcGetProgramLogSize", as: FSize.self)
        nvrtcGetProgramLog = try lib.symbol("nvrtcGetProgramLog", as: FBytes.self)
        nvrtcGetCUBINSize = try lib.symbol("nvrtcGetCUBINSize", as: FSize.self)
        nvrtcGetCUBIN = try lib.symbol("nvrtcGetCUBIN", as: FBytes.self)
        let getVersion = try lib.symbol("nvrtcVersion", as: FVersion.self)
        var major: Int32 = 0, minor: Int32 = 0
        _ = getVersion(&major, &minor)
        version = (major, minor)
    }

    private var cache: [String: [UInt8]] = [:]
    private var lock = pthread_mutex_t()
    private var lockReady = false

    /// The CUBIN of `source` for `arch` ("sm_90"); a compile error carries NVRTC's log.
    public func compile(_ source: String, name: String, arch: String) throws(LoomError) -> [UInt8] {
        let opts = NVRTC.options(arch: arch)
        let key = arch + "\u{1}" + opts.joined(separator: " ") + "\u{1}" + source
        if !lockReady { pthread_mutex_init(&lock, nil); lockReady = true }
        pthread_mutex_lock(&lock)
        defer { pthread_mutex_unlock(&lock) }
        if let hit = cache[key] { return hit }
        var prog: OpaquePointer? = nil
        let created = source.withCString { src in name.withCString { nvrtcCreateProgram(&prog, src, $0, 0, nil, nil) } }
        guard created == 0 else { throw LoomError(.device, "nvrtc", "nvrtcCreateProgram failed (\(created))") }
        defer { _ = nvrtcDestroyProgram(&prog) }
        let cStrings = opts.map { strdup($0) }
        defer { for p in cStrings { free(p) } }
        let status = cStrings.map { UnsafePointer($0) }.withUnsafeBufferPointer { nvrtcCompileProgram(prog, Int32(opts.count), $0.baseAddress) }
        guard status == 0 else {
            var n = 0
            _ = nvrtcGetProgramLogSize(prog, &n)
            var log = [CChar](repeating: 0, count: Swift.max(n, 1))
            _ = nvrtcGetProgramLog(prog, &log)
            throw LoomError(.device, "nvrtc", "kernel \(name) did not compile: \(String(cString: log))")
        }
        var size = 0
        _ = nvrtcGetCUBINSize(prog, &size)
        var cubin = [CChar](repeating: 0, count: size)
        _ = nvrtcGetCUBIN(prog, &cubin)
        let bytes = cubin.map { UInt8(bitPattern: $0) }
        cache[key] = bytes
        return bytes
    }
}
