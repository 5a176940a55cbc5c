import LoomCore

/// Every trainable tensor of a network, under a stable name (`layers.3.weight`,
/// `layers.5.branches.1.bias`), in registry order: the order layers appear in the IR, depth first.
///
/// Optimizers, freezing, save/load and (later) tweening all work on this one list, so no layer
/// type can be skipped by accident.
public final class ParameterStore<T: LoomFloat> {
    public private(set) var names: [String] = []
    public var values: [Tensor<T>] = []
    public var grads: [Tensor<T>] = []
    /// Frozen parameters keep their values: their gradients are computed but optimizers skip them.
    public var frozen: [Bool] = []

    public init() {}

    /// A store with the same names, frozen flags and gradients, holding `values` (an execution
    /// view of this one: see `Execution`).
    func copy(values: [Tensor<T>]) -> ParameterStore<T> { copy(values: values, grads: grads) }

    func copy(values: [Tensor<T>], grads: [Tensor<T>]) -> ParameterStore<T> {
        let s = ParameterStore<T>()
        s.names = names; s.values = values; s.grads = grads; s.frozen = frozen; s.external = external
        return s
    }

    /// Registers a parameter and returns its index. `initial` runs only when `materialize` is true;
    /// otherwise the value is a placeholder of the right shape with no data, to be replaced by a
    /// loader (`setExternal` or `values[i] = …`) before the network runs.
    public func register(_ name: String, shape: [Int], _ initial: @autoclosure () -> Tensor<T>) -> Int {
        names.append(name)
        values.append(materialize ? initial() : Tensor(uncheckedShape: shape, data: []))
        grads.append(materialize ? Tensor(zeros: shape) : Tensor(uncheckedShape: shape, data: []))
        frozen.append(false)
        return names.count - 1
    }

    /// Whether `register` computes initial values (false while a loader builds a network whose
    /// weights come from a file).
    public var materialize = true

    /// Weight matrices that live outside the store, in a mapped GGUF file (blocks, never copied):
    /// `external[i]` is used by every product with parameter i. Such parameters are inference-only.
    public private(set) var external: [GGUFQuantizedMatrix?] = []

    /// Makes parameter `i` the GGUF matrix `m` (its f32 value becomes an empty placeholder).
    public func setExternal(_ i: Int, _ m: GGUFQuantizedMatrix) {
        if external.count != names.count { external = [GGUFQuantizedMatrix?](repeating: nil, count: names.count) }
        external[i] = m
        values[i] = Tensor(uncheckedShape: values[i].shape, data: [])
        grads[i] = Tensor(uncheckedShape: values[i].shape, data: [])
    }

    /// Whether any parameter is an external (inference-only) matrix.
    public var hasExternal: Bool { external.contains { $0 != nil } }

    @inline(__always) func externalMatrix(_ i: Int) -> GGUFQuantizedMatrix? { external.isEmpty ? nil : external[i] }

    public var count: Int { names.count }

    public func index(of name: String) -> Int? {
        for i in 0..<names.count where names[i] == name { return i }
        return nil
    }

    /// Total number of scalar parameters, from the shapes (so placeholders and external matrices
    /// count too).
    public var scalarCount: Int { values.reduce(0) { $0 + Tensor<T>.count(of: $1.shape) } }

    /// Sets every gradient to +0.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public func zeroGrads() {
        for i in 0..<grads.count {
            grads[i].data.withUnsafeMutableBufferPointer { p in
                for j in 0..<p.count { p[j] = 0 }
            }
        }
    }

    /// Freezes (or unfreezes) every parameter whose name starts with `prefix`; returns how many.
    @discardableResult
    public func setFrozen(_ value: Bool, prefix: String) -> Int {
        var n = 0
        for i in 0..<names.count where names[i].hasPrefix(prefix) {
            let rest = names[i].utf8.dropFirst(prefix.utf8.count)
            if prefix.isEmpty || rest.isEmpty || rest.first == UInt8(ascii: ".") { frozen[i] = value; n += 1 }
        }
        return n
    }

    /// Hash of every value's name, shape and bits, in registry order.
    public var bitHash: BitHash {
        var h = BitHash()
        for i in 0..<names.count {
            for b in names[i].utf8 { h.addByte(b) }
            let t = values[i].bitHash
            h.addUInt64(t.value)
        }
        return h
    }
}
