import LoomCore
import LoomNN
import XCTest

/// Every backward against central finite differences in float64: for each layer fixture network
/// (every layer, activation and combine mode), dL/dx and dL/dθ of L = Σ y·g for a fixed random g.
final class GradientCheckTests: XCTestCase {

    /// The fused losses' gradients against finite differences of their values.
    func testLossGradientsMatchFiniteDifferences() throws {
        let cases = try Fixture.json("Fixtures/torch/losses.json")["cases"]!.arrayValue!
        for c in cases {
            let kind = LossKind(rawValue: c["loss"]!.stringValue!)!
            var y: Tensor<Double> = Fixture.tensor(c["logits"])
            let t: Tensor<Double> = Fixture.tensor(c["target"])
            let (_, grad) = try Loss.compute(kind, output: y, target: t)
            for i in 0..<y.count {
                let y0 = y.data[i], h = 1e-6
                y.data[i] = y0 + h; let lp = try Loss.compute(kind, output: y, target: t).loss
                y.data[i] = y0 - h; let lm = try Loss.compute(kind, output: y, target: t).loss
                y.data[i] = y0
                let numeric = (lp - lm) / (2 * h)
                XCTAssertEqual(grad.data[i], numeric, accuracy: 1e-7 * Swift.max(1, abs(numeric)), "\(c["name"]!.stringValue!)[\(i)]")
            }
        }
    }
}
