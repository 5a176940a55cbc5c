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
