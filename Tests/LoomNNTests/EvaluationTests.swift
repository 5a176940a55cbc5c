import XCTest
import LoomCore
import LoomNN

/// The evaluation tools: deviation buckets, accuracy milestones, the adaptation tracker and the
/// save/load check.
final class EvaluationTests: XCTestCase {
    func testDeviationBuckets() throws {
        let expected: [Double] = [10, 10, 10, 10, 0, -4, 1, 2]
        let actual: [Double] = [10, 10.5, 8.5, 14.9, 0.3, -4, .nan, 4.5]
        // deviations: 0, 5, 15, 49, 30 (|e| < 1e-10: |a − e|·100), 0, 100 (NaN), 125
        let r = try DeviationReport(expected: expected, actual: actual)
        XCTAssertEqual(r.deviations.map { ($0 * 1e6).rounded() / 1e6 }, [0, 5, 15, 49, 30, 0, 100, 125])
        XCTAssertEqual(r.counts, [3, 1, 0, 1, 1, 0, 2])
        XCTAssertEqual(r.members[0], [0, 1, 5])
        XCTAssertEqual(r.members[6], [6, 7])
        XCTAssertEqual(r.meanDeviation, 324.0 / 8, accuracy: 1e-12)
        XCTAssertEqual(r.worst(2).map(\.index), [7, 6])
        XCTAssertEqual(r.score, 59.5, accuracy: 1e-12)
        XCTAssertEqual(r.json["buckets"]?["100%+"]?.numberValue?.int, 2)
        XCTAssertThrowsError(try DeviationReport(expected: [1.0], actual: [1, 2])) { e in XCTAssertTrue("\(e)".contains("2 predictions for 1")) }
        XCTAssertThrowsError(try DeviationReport(expected: [Double.infinity], actual: [1])) { e in XCTAssertEqual((e as? LoomError)?.kind, .nonFinite) }
        XCTAssertThrowsError(try DeviationReport(expected: [Double](), actual: [])) { e in XCTAssertTrue("\(e)".contains("no values")) }
    }

    func testAccuracyMilestones() {
        var m = AccuracyMilestones()
        m.record(accuracy: 0.15, step: 1, seconds: 0.5)
        m.record(accuracy: 0.55, step: 2, seconds: 1.0)
        m.record(accuracy: 0.5, step: 3, seconds: 1.5)
        m.record(accuracy: 1.0, step: 4, seconds: 2.0)
        XCTAssertEqual(m.reached.map { $0?.step }, [1, 2, 2, 2, 2, 4, 4, 4, 4, 4])
        XCTAssertEqual(m.reached[9]?.seconds, 2.0)
    }

    func testAdaptationTracker() throws {
        var t = try AdaptationTracker(window: 4)
        try t.scheduleTaskChange(at: 8, task: 1, name: "avoid")
        XCTAssertThrowsError(try t.scheduleTaskChange(at: 6, task: 2, name: "back")) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument)
            XCTAssertTrue("\(e)".contains("in the past"), "\(e)")
        }
        var tasks = [Int]()
        // 8 right, then 8 wrong (the change), then 3 of 4 right.
        for i in 0..<20 { tasks.append(t.record(correct: i < 8 || i >= 16 ? i != 17 : false)) }
        XCTAssertEqual(tasks, [Int](repeating: 0, count: 8) + [Int](repeating: 1, count: 12))
        XCTAssertThrowsError(try t.scheduleTaskChange(at: 12, task: 2, name: "late")) { e in XCTAssertTrue("\(e)".contains("20 outputs recorded")) }
        let r = t.finish()
        XCTAssertEqual(r.windowAccuracy, [1, 1, 0, 0, 0.75])
        XCTAssertEqual(r.averageAccuracy, 0.55, accuracy: 1e-12)
        XCTAssertEqual(r.changes.count, 1)
        XCTAssertEqual(r.changes[0].before, 1)
        XCTAssertEqual(r.changes[0].after, 0)
        XCTAssertEqual(r.changes[0].recoveryWindows, 3)
        XCTAssertNil(r.changes[0].recoveryOutputs, "never back to 90% of 100% within the run")
        XCTAssertThrowsError(try AdaptationTracker(window: 0))
    }

    func testSaveLoadCheckEveryDType() throws {
        func check<T: LoomFloat>(_ dtype: DType, _: T.Type) throws {
            let c = ReferenceNetworks.cases(dtype: dtype).first { $0.name.hasPrefix("layer_norm") }!
            let net = try Network<T>(c.spec)
            let r = try SaveLoadCheck.run(net, inputs: ReferenceNetworks.input(c, batch: 3, as: T.self))
            XCTAssertTrue(r.identical, "\(dtype): \(r)")
        }
        try check(.f64, Double.self)
        for dtype in [DType.f32, .bf16, .i8, .f4] { try check(dtype, Float.self) }
    }
}
