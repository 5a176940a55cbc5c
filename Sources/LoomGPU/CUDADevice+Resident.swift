import LoomCore

/// One argument of a kernel launch, passed by value.
public enum KernelArgument {
    case pointer(CUdeviceptr)
    case int(Int)
    case float(Float)
    case double(Double)

    /// A scalar of the element type `T`.
    static func scalar<T: LoomFloat>(_ v: T) -> KernelArgument {
        T.self == Double.self ? .double(v.double) : .float(Float(v.double))
    }
}

/// Device memory owned by Swift: freed when the last reference goes. Grows on demand (the
/// contents are not kept when it grows).
public final class CUDABuffer {
    public let device: CUDADevice
    public private(set) var pointer: CUdeviceptr = 0
    public private(set) var bytes = 0

    public init(_ device: CUDADevice, bytes: Int = 0) throws(LoomError) {
        self.device = device
        if bytes > 0 { try reserve(bytes) }
    }

    /// At least `bytes` of device memory at `pointer`.
    public func reserve(_ bytes: Int) throws(LoomError) {
        if bytes <= self.bytes && pointer != 0 { return }
        if pointer != 0 { device.free(pointer); pointer = 0; self.bytes = 0 }
        pointer = try device.allocate(Swift.max(bytes, 16))
        self.bytes = bytes
    }

    deinit { if pointer != 0 { device.free(pointer) } }
}

extension CUDADevice {
    /// `bytes` of uninitialised device memory.
    public func allocate(_ bytes: Int) throws(LoomError) -> CUdeviceptr {
        try withContext { () throws(LoomError) in
            var p: CUdeviceptr = 0
            try driver.check(driver.cuMemAlloc(&p, bytes), "cuMemAlloc(\(bytes) bytes)")
            return p
        }
    }

    /// Copies `values` to device memory at `p`.
    public func copyIn<T>(_ values: UnsafeBufferPointer<T>, to p: CUdeviceptr) throws(LoomError) {
        guard values.count > 0 else { return }
        try withContext { () throws(LoomError) in
            try driver.check(driver.cuMemcpyHtoD(p, UnsafeRawPointer(values.baseAddress!), values.count * MemoryLayout<T>.stride), "cuMemcpyHtoD")
        }
    }

    /// Copies `count` values from device memory at `p` (waits for the kernels before it).
    public func copyOut<T>(_ p: CUdeviceptr, count: Int, as: T.Type) throws(LoomError) -> [T] {
        guard count > 0 else { return [] }
        return try withContext { () throws(LoomError) in
            var out = [T](unsafeUninitializedCapacity: count) { _, n in n = count }
            let copied = out.withUnsafeMutableBytes { driver.cuMemcpyDtoH($0.baseAddress, p, $0.count) }
            try driver.check(copied, "cuMemcpyDtoH (a kernel before it may have failed)")
            return out
        }
    }

    /// Sets `bytes` (a multiple of 4) at `p` to zero bits (+0 for floats).
    public func zero(_ p: CUdeviceptr, bytes: Int) throws(LoomError) {
        guard bytes > 0 else { return }
        try withContext { () throws(LoomError) in
            try driver.check(driver.cuMemsetD32(p, 0, bytes / 4), "cuMemsetD32")
        }
    }

    /// Waits for every kernel and copy queued on this device.
    public func synchronize() throws(LoomError) {
        try withContext { () throws(LoomError) in try driver.check(driver.cuCtxSynchronize(), "cuCtxSynchronize") }
    }

    /// Blocks for a grid-stride loop over `n` elements with 256 threads each.
    public func blocks(for n: Int) -> Int { Swift.max(1, Swift.min((n + 255) / 256, multiprocessors * 16)) }

    /// The canonical product on device memory: `a`, `b`, `c` are device pointers with the layout
    /// of `GemmProblem` (`shape` supplies the sizes, strides and `accumulate`).
    public func gemm(_ shape: GemmKernel.Shape, element: GemmKernel.Element, a: CUdeviceptr, b: CUdeviceptr, c: CUdeviceptr) throws(LoomError) {
        guard shape.m > 0 && shape.n > 0 else { return }
        let spec = GemmKernel(shape, element: element, multiprocessors: multiprocessors)
        try withContext { () throws(LoomError) in
            try launchHeld(try gemmFunction(spec), blocks: spec.grid, threads: spec.tile.threads, spec.launchArguments(a: a, b: b, c: c))
        }
    }
}

/// A kernel by source and name, resolved (compiled, loaded) on its first launch and then kept,
/// so launches in a training loop never hash the source again.
public final class KernelHandle {
    public let name: String
    public var source: String
    var function: OpaquePointer? = nil

    public init(source: String, name: String) { self.source = source; self.name = name }
}

extension CUDADevice {
    /// Launches `kernel` as a grid-stride loop over `n` elements (256 threads per block).
    public func launch(_ kernel: KernelHandle, over n: Int, _ args: [KernelArgument]) throws(LoomError) {
        guard n > 0 else { return }
        try launch(kernel, blocks: (blocks(for: n), 1), threads: 256, args)
    }

    /// Launches `kernel` on a grid of `blocks`, with `sharedBytes` of dynamic shared memory per block.
    public func launch(_ kernel: KernelHandle, blocks: (x: Int, y: Int), threads: Int, sharedBytes: Int = 0,
                       _ args: [KernelArgument]) throws(LoomError) {
        try withContext { () throws(LoomError) in
            if kernel.function == nil { kernel.function = try function(kernel.source, kernel.name) }
            try launchHeld(kernel.function!, blocks: blocks, threads: threads, sharedBytes: sharedBytes, args)
        }
    }

    /// Launches a resolved function with by-value arguments; the caller holds the context
    /// (`withContext`).
    func launchHeld(_ f: OpaquePointer, blocks: (x: Int, y: Int), threads: Int, sharedBytes: Int = 0,
                    _ args: [KernelArgument]) throws(LoomError) {
        // Each argument's bytes in its own 8-byte slot; the driver reads each by its size.
        let storage = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(1, args.count) * 8, alignment: 8)
        defer { storage.deallocate() }
        var params = [UnsafeMutableRawPointer?]()
        params.reserveCapacity(args.count)
        for (i, a) in args.enumerated() {
            let slot = storage + i * 8
            switch a {
            case .pointer(let p): slot.storeBytes(of: p, as: CUdeviceptr.self)
            case .int(let v): slot.storeBytes(of: Int64(v), as: Int64.self)
            case .float(let v): slot.storeBytes(of: v, as: Float.self)
            case .double(let v): slot.storeBytes(of: v, as: Double.self)
            }
            params.append(slot)
        }
        let r = params.withUnsafeMutableBufferPointer {
            driver.cuLaunchKernel(f, UInt32(blocks.x), UInt32(blocks.y), 1, UInt32(threads), 1, 1, UInt32(sharedBytes), nil, $0.baseAddress, nil)
        }
        try driver.check(r, "cuLaunchKernel")
    }
}
