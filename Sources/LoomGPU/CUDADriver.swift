import Glibc
import LoomCore

// The CUDA driver API, loaded with dlopen at run time: the same `loom` binary runs on machines
// without a GPU and says so when asked for one. Only the functions Loom uses are resolved, with
// the signatures declared here (docs/gpu.md).

typealias CUresult = Int32
/// A device address (the driver API's CUdeviceptr).
public typealias CUdeviceptr = UInt64

/// An opened shared library and typed symbol lookup.
struct DynamicLibrary {
    let handle: UnsafeMutableRawPointer
    let name: String

    /// The first of `names` that dlopen finds, or nil.
    static func open(_ names: [String]) -> DynamicLibrary? {
        for n in names {
            if let h = dlopen(n, RTLD_NOW | RTLD_LOCAL) { return DynamicLibrary(handle: h, name: n) }
        }
        return nil
    }

    func symbol<F>(_ name: String, as: F.Type) throws(LoomError) -> F {
        guard let p = dlsym(handle, name) else {
            throw LoomError(.device, self.name, "has no symbol \(name): the library is too old for Loom (update the NVIDIA driver or CUDA toolkit)")
        }
        return unsafeBitCast(p, to: F.self)
    }
}

/// The driver entry points Loom calls.
final class CUDADriver {
    typealias FInit = @convention(c) (UInt32) -> CUresult
    typealias FIntOut = @convention(c) (UnsafeMutablePointer<Int32>?) -> CUresult
    typealias FDeviceGet = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> CUresult
    typealias FDeviceName = @convention(c) (UnsafeMutablePointer<CChar>?, Int32, Int32) -> CUresult
    typealias FDeviceAttr = @convention(c) (UnsafeMutablePointer<Int32>?, Int32, Int32) -> CUresult
    typealias FDeviceTotalMem = @convention(c) (UnsafeMutablePointer<Int>?, Int32) -> CUresult
    typealias FCtxRetain = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, Int32) -> CUresult
    typealias FCtxSet = @convention(c) (OpaquePointer?) -> CUresult
    typealias FVoid = @convention(c) () -> CUresult
    typealias FMemAlloc = @convention(c) (UnsafeMutablePointer<CUdeviceptr>?, Int) -> CUresult
    typealias FMemFree = @convention(c) (CUdeviceptr) -> CUresult
    typealias FHtoD = @convention(c) (CUdeviceptr, UnsafeRawPointer?, Int) -> CUresult
    typealias FDtoH = @convention(c) (UnsafeMutableRawPointer?, CUdeviceptr, Int) -> CUresult
    typealias FMemsetD32 = @convention(c) (CUdeviceptr, UInt32, Int) -> CUresult
    typealias FModuleLoad = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UnsafeRawPointer?) -> CUresult
    typealias FModuleFunction = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, OpaquePointer?, UnsafePointer<CChar>?) -> CUresult
    typealias FLaunch = @convention(c) (OpaquePointer?, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, OpaquePointer?,
                                        UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> CUresult
    typealias FErrorName = @convention(c) (CUresult, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> CUresult
    typealias FEventCreate = @convention(c) (UnsafeMutablePointer<OpaquePointer?>?, UInt32) -> CUresult
    typealias FEventRecord = @convention(c) (OpaquePointer?, OpaquePointer?) -> CUresult
    typealias FEventSync = @convention(c) (OpaquePointer?) -> CUresult
    typealias FEventElapsed = @convention(c) (UnsafeMutablePointer<Float>?, OpaquePointer?, OpaquePointer?) -> CUresult

    let library: DynamicLibrary
    let cuInit: FInit, cuDriverGetVersion: FIntOut, cuDeviceGetCount: FIntOut, cuDeviceGet: FDeviceGet
    let cuDeviceGetName: FDeviceName, cuDeviceGetAttribute: FDeviceAttr, cuDeviceTotalMem: FDeviceTotalMem
    let cuDevicePrimaryCtxRetain: FCtxRetain, cuCtxSetCurrent: FCtxSet, cuCtxSynchronize: FVoid
    let cuMemAlloc: FMemAlloc, cuMemFree: FMemFree, cuMemcpyHtoD: FHtoD, cuMemcpyDtoH: FDtoH, cuMemsetD32: FMemsetD32
    let cuModuleLoadData: FModuleLoad, cuModuleGetFunction: FModuleFunction, cuLaunchKernel: FLaunch
    let cuGetErrorName: FErrorName
    let cuEventCreate: FEventCreate, cuEventRecord: FEventRecord, cuEventSynchronize: FEventSync, cuEventElapsedTime: FEventElapsed

    /// The oldest driver API Loom is written against (CUDA 12.0).
    static let minimumVersion: Int32 = 12000

    init() throws(LoomError) {
        // The system driver (never a compat/ or stubs/ copy; see docs/gpu.md).
        guard let lib = DynamicLibrary.open(["libcuda.so.1", "libcuda.so"]) else {
            throw LoomError(.device, "cuda", "no NVIDIA driver found (libcuda.so.1 is not on this machine): run on a machine with an NVIDIA GPU and driver, or use the CPU (--device cpu)")
        }
        library = lib
        cuInit = try lib.symbol("cuInit", as: FInit.self)
        cuDriverGetVersion = try lib.symbol("cuDriverGetVersion", as: FIntOut.self)
        cuDeviceGetCount = try lib.symbol("cuDeviceGetCount", as: FIntOut.self)
        cuDeviceGet = try lib.symbol("cuDeviceGet", as: FDeviceGet.self)
        cuDeviceGetName = try lib.symbol("cuDeviceGetName", as: FDeviceName.self)
        cuDeviceGetAttribute = try lib.symbol("cuDeviceGetAttribute", as: FDeviceAttr.self)
        cuDeviceTotalMem = try lib.symbol("cuDeviceTotalMem_v2", as: FDeviceTotalMem.self)
        cuDevicePrimaryCtxRetain = try lib.symbol("cuDevicePrimaryCtxRetain", as: FCtxRetain.self)
        cuCtxSetCurrent = try lib.symbol("cuCtxSetCurrent", as: FCtxSet.self)
        cuCtxSynchronize = try lib.symbol("cuCtxSynchronize", as: FVoid.self)
        cuMemAlloc = try lib.symbol("cuMemAlloc_v2", as: FMemAlloc.self)
        cuMemFree = try lib.symbol("cuMemFree_v2", as: FMemFree.self)
        cuMemcpyHtoD = try lib.symbol("cuMemcpyHtoD_v2", as: FHtoD.self)
        cuMemcpyDtoH = try lib.symbol("cuMemcpyDtoH_v2", as: FDtoH.self)
        cuMemsetD32 = try lib.symbol("cuMemsetD32_v2", as: FMemsetD32.self)
        cuModuleLoadData = try lib.symbol("cuModuleLoadData", as: FModuleLoad.self)
        cuModuleGetFunction = try lib.symbol("cuModuleGetFunction", as: FModuleFunction.self)
        cuLaunchKernel = try lib.symbol("cuLaunchKernel", as: FLaunch.self)
        cuGetErrorName = try lib.symbol("cuGetErrorName", as: FErrorName.self)
        cuEventCreate = try lib.symbol("cuEventCreate", as: FEventCreate.self)
        cuEventRecord = try lib.symbol("cuEventRecord", as: FEventRecord.self)
        cuEventSynchronize = try lib.symbol("cuEventSynchronize", as: FEventSync.self)
        cuEventElapsedTime = try lib.symbol("cuEventElapsedTime", as: FEventElapsed.self)
        try check(cuInit(0), "cuInit")
        var v: Int32 = 0
        try check(cuDriverGetVersion(&v), "cuDriverGetVersion")
        guard v >= CUDADriver.minimumVersion else {
            throw LoomError(.device, "cuda", "the NVIDIA driver supports CUDA \(v / 1000).\(v % 1000 / 10); Loom needs 12.0 or newer: update the driver")
        }
        version = v
    }

    private(set) var version: Int32 = 0

    /// Throws a device error naming the call and the driver's error name.
    func check(_ r: CUresult, _ call: String) throws(LoomError) {
        guard r != 0 else { return }
        var name: UnsafePointer<CChar>? = nil
        _ = cuGetErrorName(r, &name)
        let text = name.map { String(cString: $0) } ?? "error \(r)"
        if r == 2 {  // CUDA_ERROR_OUT_OF_MEMORY
            throw LoomError(.device, call, "\(text): the GPU is out of memory (use a smaller batch or model, or the CPU)")
        }
        throw LoomError(.device, call, text)
    }
}
