import Glibc
import LoomCore
import LoomNN

/// A tensor in device memory: a pointer into a buffer some op owns, and its shape (batch first).
struct DeviceTensor {
    var pointer: CUdeviceptr
    var shape: [Int]
    var count: Int { shape.reduce(1, *) }
}

/// What the resident ops share: the device, the element type's kernels, and the parameter and
/// gradient arenas (every parameter at its offset, in registry order).
final class ResidentRuntime<T: LoomFloat> {
    let device: CUDADevice
    let element: GemmKernel.Element
    let size = MemoryLayout<T>.stride
    /// The master parameter values (what the optimizer updates).
    let params: CUDABuffer
    let grads: CUDABuffer
    /// How the network computes in its dtype. Rounded and quantized execution read `view`, the
    /// execution's copy of `params` (`Execution.view`: every value rounded to f16/bf16, or every
    /// weight matrix quantized per output channel and read back), made again after each update
    /// (`refreshView`); quantized execution also keeps each weight matrix's codes (`gridWeights`).
    let execution: Execution
    let view: CUDABuffer?
    var gridWeights: [Int: GridWeight] = [:]
    /// Element offset of each parameter, and the total at the end.
    let offsets: [Int]
    private var layerKernels: [String: KernelHandle] = [:]
    /// The pass being run: training (dropout active) or not, its step (dropout's stream), the seed.
    var training = false
    var step: UInt64 = 0
    let seed: UInt64
    /// When set, every kernel launch waits for the device and adds its wall time here, by kernel
    /// (products by shape): `loom bench … --device cuda` prints it with LOOM_GPU_PROFILE=1.
    var profile: [String: (seconds: Double, calls: Int)]? = nil
    private let layerSource: String
    /// GGUF block matrices (`ParameterStore.external`) copied to the device, by parameter index.
    let quantized: [Int: QuantizedWeight]
    private var quantizedKernels: [String: KernelHandle] = [:]
    /// Quantized execution: the codes and scales of the rows the last `integerProduct` read.
    var activationCodes: CUDABuffer?, activationScales: CUDABuffer?
    /// The 8-bit activation blocks of the last `quantize`.
    var codes: CUDABuffer?, scales: CUDABuffer?, sums: CUDABuffer?
    /// Incremental decoding (`ResidentInference`): the first new position and the cache's capacity;
    /// nil for full sequences.
    var sequence: (start: Int, capacity: Int)? = nil
    /// Padded sequences (`ResidentInference.forward(_:validLengths:)`): each batch row's count of
    /// valid key positions (Int32) on the device; nil otherwise.
    var valid: CUdeviceptr? = nil
    /// The network input as uploaded, with its host values (the embedding checks ids without a
    /// download).
    var hostInput: (pointer: CUdeviceptr, values: [T])? = nil
    var ropeKey: (first: Int, count: Int, headDim: Int, base: Double, interleaved: Bool)? = nil
    var rope: CUDABuffer?

    /// `gradients` false: inference only (no gradient arena).
    init(device: CUDADevice, store: ParameterStore<T>, seed: UInt64, execution: Execution, gradients: Bool = true) throws(LoomError) {
        self.device = device
        self.seed = seed
        self.execution = execution
        element = T.self == Double.self ? .f64 : .f32
        layerSource = LayerKernels.source(element)
        var offs = [0]
        for v in store.values { offs.append(offs.last! + v.count) }
        offsets = offs
        params = try CUDABuffer(device, bytes: offs.last! * MemoryLayout<T>.stride)
        grads = try CUDABuffer(device, bytes: gradients ? offs.last! * MemoryLayout<T>.stride : 0)
        view = execution.isNative ? nil : try CUDABuffer(device, bytes: offs.last! * MemoryLayout<T>.stride)
        if case .quantized = execution {
            for (i, v) in store.values.enumerated() where v.rank >= 2 {
                gridWeights[i] = try GridWeight(device, rows: v.shape[0], cols: v.count / Swift.max(1, v.shape[0]))
            }
        }
        var q = [Int: QuantizedWeight]()
        for (i, m) in store.external.enumerated() {
            guard let m else { continue }
            guard T.self == Float.self else { throw LoomError(.device, store.names[i], "GGUF block weights multiply f32 activations only") }
            q[i] = try QuantizedWeight(m, device)
        }
        quantized = q
        try upload(store)
    }

    var total: Int { offsets.last! }

    /// Parameter `i` as the layers read it (the execution's view).
    func param(_ i: Int) -> CUdeviceptr { (view ?? params).pointer + CUdeviceptr(offsets[i] * size) }
    func grad(_ i: Int) -> CUdeviceptr { grads.pointer + CUdeviceptr(offsets[i] * size) }

    /// Copies every parameter value to the device (and makes the rounded view).
    func upload(_ store: ParameterStore<T>) throws(LoomError) {
        for i in 0..<store.count {
            try store.values[i].data.withUnsafeBufferPointer { (b) throws(LoomError) in
                try device.copyIn(b, to: params.pointer + CUdeviceptr(offsets[i] * size))
            }
        }
        try refreshView()
    }

    /// A kernel of `QuantizedKernels` by name.
    func quantizedKernel(_ name: String) -> KernelHandle {
        if let k = quantizedKernels[name] { return k }
        let k = KernelHandle(source: QuantizedKernels.source, name: name)
        quantizedKernels[name] = k
        return k
    }

    /// A kernel of `LayerKernels` by name.
    func kernel(_ name: String) -> KernelHandle {
        if let k = layerKernels[name] { return k }
        let k = KernelHandle(source: layerSource, name: name)
        layerKernels[name] = k
        return k
    }

    /// Runs layer kernel `name` as a grid-stride loop over `n` items.
    func run(_ name: String, over n: Int, _ args: [KernelArgument]) throws(LoomError) {
        try timed(name) { () throws(LoomError) in try device.launch(kernel(name), over: n, args) }
    }

    func gemm(_ shape: GemmKernel.Shape, a: CUdeviceptr, b: CUdeviceptr, c: CUdeviceptr) throws(LoomError) {
        try timed("gemm \(shape.m)x\(shape.n)x\(shape.k)") { () throws(LoomError) in
            try device.gemm(shape, element: element, a: a, b: b, c: c)
        }
    }

    /// Runs `body`; when profiling, waits for the device around it and adds its time under `key`
    /// (built only then).
    func timed(_ key: @autoclosure () -> String, _ body: () throws(LoomError) -> Void) throws(LoomError) {
        guard profile != nil else { return try body() }
        let key = key()
        try device.synchronize()
        let t0 = ResidentRuntime.now()
        try body()
        try device.synchronize()
        let e = profile![key] ?? (0, 0)
        profile![key] = (e.seconds + ResidentRuntime.now() - t0, e.calls + 1)
    }

    /// The Philox key (from the network's seed) and `stream`, as the random kernels take them.
    func philox(stream: UInt64) -> [KernelArgument] {
        let p = Philox(seed: seed)
        return [.int(Int(p.key0)), .int(Int(p.key1)), .int(Int(bitPattern: UInt(stream)))]
    }

    /// The profile as lines `ms calls key`, slowest first.
    var profileLines: [String] {
        (profile ?? [:]).sorted { $0.value.seconds > $1.value.seconds }
            .map { "\(($0.value.seconds * 1e6).rounded() / 1e3) ms  \($0.value.calls)×  \($0.key)" }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// The kernel of an element-wise program (its own module; NVRTC and the device cache modules).
    func formula(_ program: ScalarProgram) -> Formula { Formula(program: program, handle: KernelHandle(
        source: FormulaKernel(program, element: element).source, name: FormulaKernel.functionName)) }

    struct Formula {
        let program: ScalarProgram
        let handle: KernelHandle
    }

    /// Runs `f` over `n` elements: one pointer per input and per output (in the program's order),
    /// then its scalars.
    func run(_ f: Formula, n: Int, inputs: [CUdeviceptr], outputs: [CUdeviceptr], scalars: [T] = []) throws(LoomError) {
        precondition(inputs.count == f.program.inputs.count && outputs.count == f.program.outputs.count
                     && scalars.count == f.program.scalars.count)
        var args: [KernelArgument] = [.int(n)]
        args += inputs.map { .pointer($0) }
        args += outputs.map { .pointer($0) }
        args += scalars.map { KernelArgument.scalar($0) }
        try timed("formula " + f.program.outputs.joined(separator: ",")) { () throws(LoomError) in try device.launch(f.handle, over: n, args) }
    }

    /// A buffer of at least `count` elements in `buffer` (created on first use).
    func reserve(_ buffer: inout CUDABuffer?, _ count: Int) throws(LoomError) -> CUdeviceptr {
        try reserveBytes(&buffer, Swift.max(count, 1) * size)
    }

    func zero(_ p: CUdeviceptr, _ count: Int) throws(LoomError) { try device.zero(p, bytes: count * size) }

    /// Copies host values into `buffer` (grown to fit) and returns its pointer.
    func upload<E>(_ values: [E], into buffer: inout CUDABuffer?) throws(LoomError) -> CUdeviceptr {
        if buffer == nil { buffer = try CUDABuffer(device) }
        try buffer!.reserve(Swift.max(values.count, 1) * MemoryLayout<E>.stride)
        try values.withUnsafeBufferPointer { (b) throws(LoomError) in try device.copyIn(b, to: buffer!.pointer) }
        return buffer!.pointer
    }

    /// The window-geometry arguments of `LayerKernels` (`GEO`).
    static func geometryArguments(batch: Int, channels: Int, _ g: WindowGeometry) -> [KernelArgument] {
        [batch, channels, g.height, g.width, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.outH, g.outW].map { .int($0) }
    }
}
