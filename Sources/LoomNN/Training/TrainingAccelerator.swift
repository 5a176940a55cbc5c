import LoomCore

/// Training steps computed somewhere other than the host's memory — a GPU backend keeps the
/// parameters, gradients, optimizer state and activations resident on its device and moves only
/// the batch in and the output out. Attached to a `Trainer` (`trainer.accelerator`), it replaces
/// the host's forward, backward, clipping and optimizer update with the same operations in the
/// same order, so every bit equals the host's.
///
/// While one is attached, the device holds the newest parameters: `Trainer.synchronize()` copies
/// them (with the gradients and the optimizer state) back into the network and the optimizer.
open class TrainingAccelerator<T: LoomFloat> {
    public init() {}

    /// A short description for logs ("cuda:0 NVIDIA H200, resident").
    open var name: String { "accelerator" }

    /// Zeroes the gradients, runs forward, the loss (`Loss.compute`) and backward of the loss
    /// gradient times `gradientScale`; returns the mean loss and the network's output (as
    /// `Network.computeGradients`).
    open func computeGradients(_ x: Tensor<T>, _ t: Tensor<T>, loss: LossKind, step: UInt64,
                               gradientScale: T) throws(LoomError) -> (loss: T, output: Tensor<T>) {
        throw LoomError(.invalidArgument, name, "computeGradients is not implemented")
    }

    /// f16 loss scaling after `computeGradients`: `scale.unscale` on the gradients where they live
    /// (false: a gradient is not finite and the step is skipped).
    open func unscale(_ scale: inout LossScale) throws(LoomError) -> Bool {
        throw LoomError(.invalidArgument, name, "unscale is not implemented")
    }

    /// Clips the gradients (`GradientClip.apply`) and applies one optimizer update at `lr`
    /// (`Optimizer.step`), advancing `optimizer`'s counters.
    open func update(clip: GradientClip?, optimizer: Optimizer<T>, lr: Double) throws(LoomError) {
        throw LoomError(.invalidArgument, name, "update is not implemented")
    }

    /// The network's output for `x` (inference with the resident parameters).
    open func forward(_ x: Tensor<T>) throws(LoomError) -> Tensor<T> {
        throw LoomError(.invalidArgument, name, "forward is not implemented")
    }

    /// Waits until the work queued on the device has finished (benchmarks time whole steps).
    open func finish() throws(LoomError) {}

    /// Copies parameters, gradients and optimizer state back to the host.
    open func synchronize(optimizer: Optimizer<T>) throws(LoomError) {}
}
