import Foundation
import LoomCore
import LoomNN
import XCTest

enum Fixture {
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func json(_ relative: String) throws -> JSONValue {
        let text = try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
        return try JSONValue.parse(text)
    }

    static func tensor<T: LoomFloat>(_ v: JSONValue?, as: T.Type = Double.self) -> Tensor<T> {
        guard let v = v, let shape = v["shape"]?.arrayValue?.map({ $0.numberValue!.int! }),
              let data = v["data"]?.arrayValue else { fatalError("bad fixture tensor") }
        return Tensor(uncheckedShape: shape, data: data.map { T($0.numberValue!.double!) })
    }

    /// The case's network in type T (the fixture IR says f64), with the fixture's parameters.
    static func network<T: LoomFloat>(_ c: JSONValue, as: T.Type) throws -> Network<T> {
        var spec = try IRDecoder.decode(c["network"]!)
        spec.dtype = T.dtype
        let net = try Network<T>(spec)
        if let params = c["params"]?.objectValue {
            XCTAssertEqual(params.keys.sorted(), net.params.names.sorted(), "parameter names of \(c["name"]!.stringValue!)")
            for k in params.keys { try net.setParameter(k, tensor(params[k], as: T.self)) }
        }
        return net
    }
}

/// |a − b| ≤ atol + rtol·|b| elementwise (only for comparing with other systems).
func assertClose<T: LoomFloat>(_ a: Tensor<T>, _ b: Tensor<T>, rtol: Double, atol: Double, _ what: String,
                               file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
    guard a.count == b.count else { return }
    var worst = 0.0, worstIndex = -1
    for i in 0..<a.count {
        let d = abs(a.data[i].double - b.data[i].double)
        let excess = d - (atol + rtol * abs(b.data[i].double))
        if excess > worst || a.data[i].isNaN != b.data[i].isNaN { worst = Swift.max(excess, 1); worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("\(what): index \(worstIndex): \(a.data[worstIndex].double) vs expected \(b.data[worstIndex].double)", file: file, line: line)
    }
}

func bits<T: LoomFloat>(_ t: Tensor<T>) -> [UInt64] { t.data.map { $0.isNaN ? 0x7FF8_0000_0000_0000 : $0.bits64 } }

/// Checks one PyTorch fixture case (schema: scripts/fixtures/README.md): forward output, input
/// gradient and parameter gradients of L = Σ output·grad_output, in type T.
func checkAgainstTorch<T: LoomFloat>(_ c: JSONValue, as: T.Type, rtol: Double, atol: Double,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
    let name = c["name"]!.stringValue!
    let net = try Fixture.network(c, as: T.self)
    let x: Tensor<T> = Fixture.tensor(c["input"], as: T.self)
    let y = try net.forward(x)
    assertClose(y, Fixture.tensor(c["output"], as: T.self), rtol: rtol, atol: atol, "\(name) output (\(T.dtype.name))", file: file, line: line)
    net.params.zeroGrads()
    let pass = net.trainingPass(context: SerialContext(), step: 0, dropout: false)
    let y2 = try net.forward(x, pass: pass)
    XCTAssertEqual(bits(y2), bits(y), "\(name): training-mode forward differs from inference", file: file, line: line)
    let dx = net.backward(Fixture.tensor(c["grad_output"], as: T.self), pass: pass)
    if let gi = c["grad_input"] {
        assertClose(dx, Fixture.tensor(gi, as: T.self), rtol: rtol, atol: atol, "\(name) grad_input (\(T.dtype.name))", file: file, line: line)
    }
    let pg = c["param_grads"]!.objectValue!
    for k in pg.keys {
        let i = try XCTUnwrap(net.params.index(of: k), "\(name): parameter \(k)", file: file, line: line)
        assertClose(net.params.grads[i], Fixture.tensor(pg[k], as: T.self), rtol: rtol, atol: atol, "\(name) grad \(k) (\(T.dtype.name))", file: file, line: line)
    }
}

/// Every backward of a fixture case's network against central finite differences in float64:
/// dL/dx (when the case has grad_input) and dL/dθ of L = Σ y·g. Returns how many were checked.
@discardableResult
func checkFiniteDifferences(_ c: JSONValue, h: Double = 1e-6, relTol: Double = 1e-6,
                            file: StaticString = #filePath, line: UInt = #line) throws -> Int {
    let name = c["name"]!.stringValue!
    let net = try Fixture.network(c, as: Double.self)
    var x: Tensor<Double> = Fixture.tensor(c["input"])
    let g: Tensor<Double> = Fixture.tensor(c["grad_output"])
    func loss() throws -> Double {
        let y = try net.forward(x)
        var s = 0.0
        for i in 0..<y.count { s += y.data[i] * g.data[i] }
        return s
    }
    net.params.zeroGrads()
    let pass = net.trainingPass(context: SerialContext(), step: 0, dropout: false)
    _ = try net.forward(x, pass: pass)
    let dx = net.backward(g, pass: pass)
    var checked = 0
    func compare(_ analytic: Double, _ numeric: Double, _ what: String) {
        let tol = relTol * Swift.max(1, abs(numeric))
        XCTAssertLessThanOrEqual(abs(analytic - numeric), tol, "\(name): \(what) analytic \(analytic) vs numeric \(numeric)", file: file, line: line)
        checked += 1
    }
    if c["grad_input"] != nil {
        for i in 0..<x.count {
            let x0 = x.data[i]
            x.data[i] = x0 + h; let lp = try loss()
            x.data[i] = x0 - h; let lm = try loss()
            x.data[i] = x0
            compare(dx.data[i], (lp - lm) / (2 * h), "dx[\(i)]")
        }
    }
    for p in 0..<net.params.count {
        for i in 0..<net.params.values[p].count {
            let w0 = net.params.values[p].data[i]
            net.params.values[p].data[i] = w0 + h; let lp = try loss()
            net.params.values[p].data[i] = w0 - h; let lm = try loss()
            net.params.values[p].data[i] = w0
            compare(net.params.grads[p].data[i], (lp - lm) / (2 * h), "d\(net.params.names[p])[\(i)]")
        }
    }
    return checked
}

/// The layer cases of every PyTorch fixture file (Fixtures/torch/*.json with a "cases" list of networks).
func allLayerFixtureCases() throws -> [JSONValue] {
    let dir = Fixture.root.appendingPathComponent("Fixtures/torch")
    var out = [JSONValue]()
    for f in try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() where f.hasSuffix(".json") {
        let v = try Fixture.json("Fixtures/torch/" + f)
        for c in v["cases"]?.arrayValue ?? [] where c["network"] != nil { out.append(c) }
    }
    return out
}
