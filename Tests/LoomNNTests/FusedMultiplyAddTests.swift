import LoomCore
import LoomNN
import XCTest

/// The multiply-accumulate rule is fused (docs/numerics.md). These inputs make fused and
/// unfused results differ, so a backend that rounds the product separately fails here.
final class FusedMultiplyAddTests: XCTestCase {
    /// x·w = (1 + 2⁻¹²)² = 1 + 2⁻¹¹ + 2⁻²⁴ exactly; in f32 the product alone rounds (tie to
    /// even) to 1 + 2⁻¹¹, so with bias −(1 + 2⁻¹¹): fused gives 2⁻²⁴, unfused gives 0.
    func testDenseUsesFusedMultiplyAdd() throws {
        let spec = NetworkSpec(dtype: .f32, inputShape: [1], layers: [.dense(units: 1, activation: .linear, bias: true)])
        let net = try Network<Float>(spec)
        let a: Float = 1 + 0x1p-12, c: Float = -(1 + 0x1p-11)
        try net.setParameter("layers.0.weight", Tensor(shape: [1, 1], data: [a]))
        try net.setParameter("layers.0.bias", Tensor(shape: [1], data: [c]))
        let x = try Tensor<Float>(shape: [1, 1], data: [a])
        let fused = c.addingProduct(a, a)
        let unfused = (a * a) + c
        XCTAssertNotEqual(fused, unfused)
        XCTAssertEqual(fused, 0x1p-24)
        XCTAssertEqual(try net.forward(x).data, [fused])
    }

    /// The same rule in the gemm chain, summed in k order: a long random chain where many
    /// results differ between fused and unfused evaluation; the reference kernel matches fused.
    func testReferenceGemmIsAFusedChainInKOrder() {
        let k = 64, n = 32
        let a: [Double] = (0..<k).map { Double($0 % 7) * 0.1 + 1.0 / 3 }
        let b: [Double] = (0..<(k * n)).map { Double(($0 * 37) % 11) * 0.07 - 0.29 }
        var c = [Double](repeating: 0, count: n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            ReferenceGemm.run(GemmProblem(m: 1, n: n, k: k, a: ap.baseAddress!, rsA: k, csA: 1, b: bp.baseAddress!, rsB: n, csB: 1,
                                          c: cp.baseAddress!, ldc: n, accumulate: false))
        } } }
        var differ = 0
        for j in 0..<n {
            var fused = 0.0, unfused = 0.0
            for i in 0..<k { fused = fused.addingProduct(a[i], b[i * n + j]); unfused = unfused + a[i] * b[i * n + j] }
            XCTAssertEqual(c[j].bitPattern, fused.bitPattern)
            if fused != unfused { differ += 1 }
        }
        XCTAssertGreaterThan(differ, 0, "the inputs must tell fused from unfused apart")
    }
}
