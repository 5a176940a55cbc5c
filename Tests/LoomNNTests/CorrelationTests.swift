import XCTest
import LoomCore
import LoomNN

/// Correlation matrices against numpy.corrcoef and scipy.stats.spearmanr
/// (Fixtures/analysis/correlation.json, scripts/fixtures/correlation.py): ties (average ranks),
/// a linear and a monotone pair, a constant feature (NaN); statistics, strong pairs, JSON, errors.
final class CorrelationTests: XCTestCase {
    func testAgainstNumpyAndScipy() throws {
        let root = try Fixture.json("Fixtures/analysis/correlation.json")
        let cases = try XCTUnwrap(root["cases"]?.arrayValue)
        XCTAssertEqual(cases.count, 3)
        for c in cases {
            let name = c["name"]!.stringValue!
            let n = Int(c["samples"]!.numberValue!.double!), f = Int(c["features"]!.numberValue!.double!)
            let data = c["data"]!.arrayValue!.map { $0.numberValue!.double! }
            for method in CorrelationMatrix.Method.allCases {
                let m = try CorrelationMatrix(data, samples: n, featureCount: f, method: method)
                let want = c[method.rawValue]!.arrayValue!
                for i in 0..<f {
                    for j in 0..<f {
                        let w = want[i].arrayValue![j]
                        if w.isNull {
                            XCTAssertTrue(m.matrix[i][j].isNaN, "\(name) \(method) [\(i)][\(j)] should be NaN")
                        } else {
                            XCTAssertEqual(m.matrix[i][j], w.numberValue!.double!, accuracy: 1e-12, "\(name) \(method) [\(i)][\(j)]")
                        }
                    }
                }
                for (k, s) in m.stats.enumerated() {
                    XCTAssertEqual(s.mean, c["mean"]!.arrayValue![k].numberValue!.double!, accuracy: 1e-12)
                    XCTAssertEqual(s.std, c["std"]!.arrayValue![k].numberValue!.double!, accuracy: 1e-12)
                }
            }
        }
    }

    func testStrongPairsLookupAndJSON() throws {
        // a, b = 2a exactly; c = a² (monotone on positive a: Spearman 1, Pearson below 1); d unrelated.
        let a: [Double] = [1, 2, 3, 4, 5, 6]
        let d: [Double] = [3, 1, 4, 1, 5, 9]
        var data = [Double]()
        for i in 0..<6 { data += [a[i], 2 * a[i], a[i] * a[i], d[i]] }
        let names = ["a", "b", "c", "d"]
        let p = try CorrelationMatrix(data, samples: 6, featureCount: 4, names: names)
        let s = try CorrelationMatrix(data, samples: 6, featureCount: 4, names: names, method: .spearman)
        XCTAssertEqual(p.matrix[0][1], 1)
        XCTAssertLessThan(p.matrix[0][2], 1)
        XCTAssertEqual(s.matrix[0][2], 1, "monotone: Spearman 1")
        let strong = s.strongPairs(threshold: 0.99).map { "\($0.a)-\($0.b)" }
        XCTAssertEqual(strong, ["a-b", "a-c", "b-c"])
        XCTAssertEqual(try p.correlations(with: "a").first?.feature, "b")
        XCTAssertThrowsError(try p.correlations(with: "z")) { e in XCTAssertTrue("\(e)".contains("no feature named \"z\"")) }
        let json = s.json(strongThreshold: 0.99)
        XCTAssertEqual(json["method"]?.stringValue, "spearman")
        XCTAssertEqual(json["strong"]?.arrayValue?.count, 3)
        XCTAssertEqual(json["stats"]?[3]?["max"]?.numberValue?.double, 9)
        XCTAssertEqual(json["matrix"]?[0]?[1]?.numberValue?.double, 1)
        // The text round-trips through the parser.
        XCTAssertEqual(try JSONValue.parse(json.serialized(pretty: false)), json)
    }

    func testBadInput() {
        func expect(_ words: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in XCTAssertTrue("\(e)".contains(words), "\(e)") }
        }
        expect("at least 2 samples") { _ = try CorrelationMatrix([1.0, 2], samples: 1, featureCount: 2) }
        expect("not 2 samples × 2 features") { _ = try CorrelationMatrix([1.0, 2, 3], samples: 2, featureCount: 2) }
        expect("3 names for 2 features") { _ = try CorrelationMatrix([1.0, 2, 3, 4], samples: 2, featureCount: 2, names: ["a", "b", "c"]) }
        expect("sample 1, feature 0") { _ = try CorrelationMatrix([1.0, 2, .nan, 4], samples: 2, featureCount: 2) }
    }
}
