import LoomCore
import LoomNN
import LoomGPU

/// The GPU of `context`, handed to `attach`: nil when that worked, otherwise why not (`who`
/// computes on the CPU, or the device refused, e.g. a layer without device kernels).
func attachResident(_ context: ComputeContext, _ who: String, _ attach: (CUDADevice) throws(LoomError) -> Void) -> LoomError? {
    guard let cuda = context as? CUDAContext else {
        return LoomError(.device, "context", "the \(who) computes on the CPU")
    }
    do throws(LoomError) {
        try attach(cuda.device)
        return nil
    } catch {
        return error
    }
}

extension Trainer {
    /// When this trainer computes on a GPU (`--device cuda`), moves training there: parameters,
    /// gradients, optimizer state and activations resident on the device, every layer a device
    /// kernel (`ResidentNetwork`), the same bits as the CPU. Returns nil when it did, otherwise why
    /// not (a CPU context, or a layer without device kernels: then the products still run on the
    /// GPU and the rest on the host).
    @discardableResult
    public func attachResidentGPU() -> LoomError? {
        attachResident(context, "trainer") { (d) throws(LoomError) in accelerator = try ResidentNetwork(network, device: d) }
    }
}

extension TextGenerator {
    /// When `context` computes on a GPU (`--device cuda`), decodes there: the model's weights (GGUF
    /// blocks byte for byte, or f32) and the KV cache resident on the device, every layer a device
    /// kernel (`ResidentInference`), the same tokens and logits as the CPU. Returns nil when it did,
    /// otherwise why not (the CPU path is then used).
    @discardableResult
    public func attachResidentGPU(_ context: ComputeContext) -> LoomError? {
        attachResident(context, "generator") { (d) throws(LoomError) in
            decoder = try ResidentInference(network, device: d, capacity: config.contextLength)
        }
    }
}

extension SentenceEncoder {
    /// When `context` computes on a GPU, embeds there: the encoder's weights resident on the device,
    /// every layer a device kernel (`ResidentInference`), the same bits as the CPU. Returns nil when it
    /// did, otherwise why not (the CPU path is then used).
    @discardableResult
    public func attachResidentGPU(_ context: ComputeContext) -> LoomError? {
        attachResident(context, "encoder") { (d) throws(LoomError) in resident = try ResidentInference(network, device: d, capacity: 1) }
    }
}

/// Counts, over many trainers, how many train device-resident (`loom verify --device cuda`).
public final class ResidentTally {
    public private(set) var resident = 0
    public private(set) var other = 0
    public private(set) var reasons: [String: Int] = [:]
    public init() {}

    func attach<T: LoomFloat>(_ t: Trainer<T>) {
        guard let e = t.attachResidentGPU() else { resident += 1; return }
        other += 1
        // "dropout has no device-resident kernels yet …" → "dropout".
        let key = String(e.message.split(separator: " ").first ?? "")
        reasons[key, default: 0] += 1
    }

    /// "689 networks resident (all)", or "42 networks resident, 3 with products only (2 embedding, 1 …)".
    public var summary: String {
        if other == 0 { return "\(resident) networks resident (all)" }
        return "\(resident) networks resident, \(other) with products only ("
            + reasons.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
    }

    /// The preparation that attaches a `ResidentNetwork` to every reference trainer it can.
    public var preparation: TrainerPreparation {
        TrainerPreparation(float: { self.attach($0) }, double: { self.attach($0) })
    }
}

extension Network {
    /// The output for `x` where `context` computes: device-resident on a GPU (the weights uploaded
    /// for this call, every layer a device kernel: `ResidentNetwork`), else `forward(_:context:)`.
    /// The same bits either way.
    public func forward(_ x: Tensor<T>, residentOn context: ComputeContext) throws(LoomError) -> Tensor<T> {
        if let cuda = context as? CUDAContext { return try ResidentNetwork(self, device: cuda.device).forward(x) }
        return try forward(x, context: context)
    }
}
