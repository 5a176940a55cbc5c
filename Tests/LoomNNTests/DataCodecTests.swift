import LoomCore
import LoomNN
import XCTest

/// Input files: a batch is an array of samples; one sample may stand alone; nothing is guessed.
final class DataCodecTests: XCTestCase {
    func batch(_ text: String, _ shape: [Int]) throws -> Tensor<Float> {
        try DataCodec.batch(try JSONValue.parse(text), sampleShape: shape, path: "input", as: Float.self)
    }

    func testBatchesAndSingleSamples() throws {
        XCTAssertEqual(try batch("[1, 2, 3]", [3]).shape, [1, 3])
        XCTAssertEqual(try batch("[[1, 2, 3], [4, 5, 6]]", [3]).shape, [2, 3])
        XCTAssertEqual(try batch("[[1, 2, 3], [4, 5, 6]]", [2, 3]).shape, [1, 2, 3], "one nested sample")
        XCTAssertEqual(try batch("[[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]]]", [2, 3]).shape, [2, 2, 3])
        XCTAssertEqual(try batch("[[1, 2, 3, 4, 5, 6]]", [2, 3]).shape, [1, 2, 3], "a flat sample")
        XCTAssertEqual(try batch("[0.1]", [1]).data, [0.1], "numbers are rounded straight to f32")
    }

    func testErrorsNameThePlace() {
        XCTAssertThrowsError(try batch("[1, 2]", [3])) { XCTAssertEqual(($0 as? LoomError)?.kind, .shapeMismatch) }
        XCTAssertThrowsError(try batch("[[1, 2, 3], [4, 5]]", [3])) { XCTAssertEqual(($0 as? LoomError)?.path, "input[1]") }
        XCTAssertThrowsError(try batch("[[1, \"x\", 3]]", [3])) { XCTAssertEqual(($0 as? LoomError)?.path, "input[0][1]") }
        XCTAssertThrowsError(try batch("[1e39]", [1])) { XCTAssertEqual(($0 as? LoomError)?.kind, .invalidInput, "out of f32 range") }
        // A nesting that is neither the sample shape nor flat is refused, not flattened (issue 16).
        XCTAssertThrowsError(try batch("[[1, 2], [3, 4], [5, 6]]", [6])) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .shapeMismatch)
            XCTAssertEqual((e as? LoomError)?.path, "input[0]")
        }
        XCTAssertThrowsError(try batch("[[[1, 2, 3]], [[4, 5, 6]]]", [6])) { XCTAssertEqual(($0 as? LoomError)?.path, "input[0]") }
        XCTAssertThrowsError(try batch("[[1, 2], [3, 4], [5, 6]]", [2, 3])) { XCTAssertEqual(($0 as? LoomError)?.kind, .shapeMismatch) }
        XCTAssertThrowsError(try batch("[]", [1]))
        XCTAssertThrowsError(try batch("{}", [1]))
    }

    func testTargets() throws {
        let classes = try DataCodec.targets(try JSONValue.parse("[0, 2, 1]"), count: 3, outputShape: [3], path: "t", as: Float.self)
        XCTAssertEqual(classes.shape, [3])
        let rows = try DataCodec.targets(try JSONValue.parse("[[0, 1], [1, 0]]"), count: 2, outputShape: [2], path: "t", as: Float.self)
        XCTAssertEqual(rows.shape, [2, 2])
        let scalars = try DataCodec.targets(try JSONValue.parse("[0.5, 1.5]"), count: 2, outputShape: [1], path: "t", as: Float.self)
        XCTAssertEqual(scalars.shape, [2, 1])
        XCTAssertThrowsError(try DataCodec.targets(try JSONValue.parse("[0, 1]"), count: 3, outputShape: [3], path: "t", as: Float.self))
    }
}
