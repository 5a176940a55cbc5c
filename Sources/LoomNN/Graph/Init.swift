import LoomCore

/// Seeded parameter initialisation. Every value is a pure function of (seed, parameter name,
/// element index) through Philox, so initial weights never depend on threads or on which other
/// layers exist.
public enum Init {
    /// U(−bound, bound): `(2u − 1)·bound` computed in Double with u = `uniformDouble`, then
    /// rounded to T.
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func uniform<T: LoomFloat>(_ shape: [Int], bound: Double, seed: UInt64, name: String) -> Tensor<T> {
        let rng = Philox(seed: seed)
        let stream = StreamID.of("init:" + name)
        let n = Tensor<T>.count(of: shape)
        var data = [T](repeating: 0, count: n)
        for i in 0..<n {
            let u = rng.uniformDouble(stream: stream, index: UInt64(i))
            data[i] = T((2 * u - 1) * bound)
        }
        return Tensor(uncheckedShape: shape, data: data)
    }

    /// N(0, std²) by Box–Muller from two uniforms (project math only).
    @_specialize(where T == Float) @_specialize(where T == Double)
    public static func normal<T: LoomFloat>(_ shape: [Int], std: Double, seed: UInt64, name: String) -> Tensor<T> {
        let rng = Philox(seed: seed)
        let stream = StreamID.of("init:" + name)
        let n = Tensor<T>.count(of: shape)
        var data = [T](repeating: 0, count: n)
        for i in 0..<n {
            let u1 = 1 - rng.uniformDouble(stream: stream, index: UInt64(2 * i))  // (0, 1]
            let u2 = rng.uniformDouble(stream: stream, index: UInt64(2 * i + 1))
            let r = (-2 * DetMath.log(u1)).squareRoot()
            data[i] = T(std * r * DetMath.cos(6.283185307179586 * u2))
        }
        return Tensor(uncheckedShape: shape, data: data)
    }

    public static func constant<T: LoomFloat>(_ shape: [Int], _ value: T) -> Tensor<T> {
        Tensor(uncheckedShape: shape, data: [T](repeating: value, count: Tensor<T>.count(of: shape)))
    }
}
