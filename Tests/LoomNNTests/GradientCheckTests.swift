import LoomCore
import LoomNN
import XCTest

/// Every backward against central finite differences in float64: for each layer fixture network
/// (every layer, activation and combine mode), dL/dx and dL/dθ of L = Σ y·g for a fixed random g.
final class GradientCheckTests: XCTestCase {
    func loss(_ net: Network<Double>, _ x: Tensor<Double>, _ g: Tensor<Double>) throws -> Double {
        let y = try net.forward(x)
        var s = 0.0
        for i in 0..<y.count { s += y.data[i] * g.data[i] }
        return s
    }

    func testBackwardMatchesFiniteDifferences() throws {
        let cases = try Fixture.json("Fixtures/torch/layers.json")["cases"]!.arrayValue!
        var checked = 0
        for c in cases {
            let name = c["name"]!.stringValue!
            let net = try Fixture.network(c, as: Double.self)
            var x: Tensor<Double> = Fixture.tensor(c["input"])
            let g: Tensor<Double> = Fixture.tensor(c["grad_output"])
            net.params.zeroGrads()
            let pass = net.trainingPass(context: SerialContext(), step: 0, dropout: false)
            _ = try net.forward(x, pass: pass)
            let dx = net.backward(g, pass: pass)
            let h = 1e-6
            func compare(_ analytic: Double, _ numeric: Double, _ what: String) {
                let tol = 1e-6 * Swift.max(1, abs(numeric))
                XCTAssertLessThanOrEqual(abs(analytic - numeric), tol, "\(name): \(what) analytic \(analytic) vs numeric \(numeric)")
            }
            if c["grad_input"] != nil {
                for i in 0..<x.count {
                    let x0 = x.data[i]
                    x.data[i] = x0 + h; let lp = try loss(net, x, g)
                    x.data[i] = x0 - h; let lm = try loss(net, x, g)
                    x.data[i] = x0
                    compare(dx.data[i], (lp - lm) / (2 * h), "dx[\(i)]")
                    checked += 1
                }
            }
            for p in 0..<net.params.count {
                for i in 0..<net.params.values[p].count {
                    let w0 = net.params.values[p].data[i]
                    net.params.values[p].data[i] = w0 + h; let lp = try loss(net, x, g)
                    net.params.values[p].data[i] = w0 - h; let lm = try loss(net, x, g)
                    net.params.values[p].data[i] = w0
                    compare(net.params.grads[p].data[i], (lp - lm) / (2 * h), "d\(net.params.names[p])[\(i)]")
                    checked += 1
                }
            }
        }
        XCTAssertGreaterThan(checked, 2000)
    }

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
