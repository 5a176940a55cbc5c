import LoomCore
import LoomNN
import LoomGPU

extension Trainer {
    /// When this trainer computes on a GPU (`--device cuda`), moves training there: parameters,
    /// gradients, optimizer state and activations resident on the device, every layer a device
    /// kernel (`ResidentNetwork`), the same bits as the CPU. Returns nil when it did, otherwise why
    /// not (a CPU context, or a layer without device kernels: then the products still run on the
    /// GPU and the rest on the host).
    @discardableResult
    public func attachResidentGPU() -> LoomError? {
        guard let cuda = context as? CUDAContext else {
            return LoomError(.device, "context", "the trainer computes on the CPU")
        }
        do throws(LoomError) {
            accelerator = try ResidentNetwork(network, device: cuda.device)
            return nil
        } catch {
            return error
        }
    }
}

/// Counts, over many trainers, how many train device-resident (`loom verify --device cuda`).
public final class ResidentTally {
    public private(set) var resident = 0
    public private(set) var other = 0
    public private(set) var reasons: [String: Int] = [:]
    public init() {}

    func attach<T: LoomFloat>(_ t: Trainer<T>) {
        if let e = t.attachResidentGPU() { other += 1; reasons[e.message, default: 0] += 1 } else { resident += 1 }
    }

    /// The preparation that attaches a `ResidentNetwork` to every reference trainer it can.
    public var preparation: TrainerPreparation {
        TrainerPreparation(float: { self.attach($0) }, double: { self.attach($0) })
    }
}
