import Loom
import LoomCore
import LoomNN
import XCTest

/// Attention and swiglu on several threads: full forward, KV-cache decoding, padding and
/// gradients give the serial bits (larger sizes than the reference networks, so the work is split).
final class AttentionThreadTests: XCTestCase {
    func spec(_ dtype: DType) -> NetworkSpec {
        NetworkSpec(name: "attention-threads", dtype: dtype, seed: 11, inputShape: [12, 32], layers: [
            .residual([.rmsNorm(epsilon: 1e-6, affine: true),
                       .multiHeadAttention(AttentionSpec(numHeads: 8, numKVHeads: 2, causal: true, bias: true,
                                                         rope: RoPESpec(layout: .half, base: 10000)))]),
            .residual([.rmsNorm(epsilon: 1e-6, affine: true), .swiglu(hidden: 48, units: nil, bias: false)]),
            .multiHeadAttention(AttentionSpec(numHeads: 4, causal: false, rope: RoPESpec(layout: .interleaved, base: 500))),
        ])
    }

    func positions<T: LoomFloat>(_ x: Tensor<T>, _ r: Range<Int>) -> Tensor<T> {
        let s = x.shape[1], f = x.shape[2]
        var data = [T]()
        for b in 0..<x.shape[0] { for t in r { data += x.data[((b * s + t) * f)..<((b * s + t + 1) * f)] } }
        return Tensor(uncheckedShape: [x.shape[0], r.count, f], data: data)
    }

    func bits<T: LoomFloat>(_ t: Tensor<T>) -> [UInt64] { t.data.map { $0.bits64 } }

    func check<T: LoomFloat>(_ as: T.Type) throws {
        let net = try Network<T>(spec(T.dtype))
        let rng = Philox(seed: 5)
        let n = 6 * 12 * 32
        let x = Tensor<T>(uncheckedShape: [6, 12, 32], data: (0..<n).map { T(2 * rng.uniformDouble(stream: 1, index: UInt64($0)) - 1) })
        let serial = try net.forward(x)
        let valid = [12, 3, 7, 1, 12, 9]
        let padded = try net.forward(x, validLengths: valid)
        net.params.zeroGrads()
        let p0 = net.trainingPass(context: SerialContext(), step: 0, dropout: false)
        _ = try net.forward(x, validLengths: valid, pass: p0)
        let dx0 = net.backward(serial, pass: p0)
        let grads0 = net.params.grads.map { $0.data.map { $0.bits64 } }
        for t in [2, 3, 8] {
            let ctx = CPUContext(threads: t)
            XCTAssertEqual(bits(try net.forward(x, context: ctx)), bits(serial), "\(T.dtype.name) \(t) threads")
            XCTAssertEqual(bits(try net.forward(x, validLengths: valid, context: ctx)), bits(padded), "\(T.dtype.name) padded, \(t) threads")
            net.params.zeroGrads()
            let p = net.trainingPass(context: ctx, step: 0, dropout: false)
            _ = try net.forward(x, validLengths: valid, pass: p)
            XCTAssertEqual(bits(net.backward(serial, pass: p)), bits(dx0), "\(T.dtype.name) dx, \(t) threads")
            XCTAssertEqual(net.params.grads.map { $0.data.map { $0.bits64 } }, grads0, "\(T.dtype.name) grads, \(t) threads")
        }
        // KV-cache decoding on 3 threads: only the causal prefix agrees (the last layer is not causal),
        // so decode a causal-only copy of the network against its own full forward.
        var causalSpec = spec(T.dtype)
        causalSpec.layers.removeLast()
        let causal = try Network<T>(causalSpec)
        let full = try causal.forward(x)
        let cache = try KVCache<T>(batch: 6, capacity: 12)
        let ctx = CPUContext(threads: 3)
        XCTAssertEqual(bits(try causal.forward(positions(x, 0..<5), cache: cache, context: ctx)), bits(positions(full, 0..<5)))
        for t in 5..<12 {
            XCTAssertEqual(bits(try causal.forward(positions(x, t..<(t + 1)), cache: cache, context: ctx)), bits(positions(full, t..<(t + 1))), "token \(t)")
        }
    }

    func testF32() throws { try check(Float.self) }
    func testF64() throws { try check(Double.self) }
}
