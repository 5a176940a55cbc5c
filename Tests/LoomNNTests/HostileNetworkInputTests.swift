import LoomCore
import LoomNN
import XCTest

/// Boundary values from outside give typed errors at once, never a trap or an allocation that
/// kills the host (issue 16, docs/reliability.md). Each case was a crash or a hang before.
final class HostileNetworkInputTests: XCTestCase {
    func net(_ layers: String, input: String = "[6]") -> String {
        "{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":\(input)},\"layers\":[\(layers)]}"
    }

    /// Builds `json` the way `loom inspect` (shape only) and `loom run` (materialised) do; both
    /// must fail with `kind` at `path` within a second.
    func expectRefused(_ json: String, _ kind: LoomError.Kind, path: String, contains: String = "",
                       file: StaticString = #filePath, line: UInt = #line) {
        for shapeOnly in [true, false] {
            let start = ContinuousClock.now
            do {
                _ = shapeOnly ? try AnyNetwork.blueprint(json: json) : try AnyNetwork.load(json: json)
                XCTFail("no error for \(json)", file: file, line: line)
            } catch {
                XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
                XCTAssertEqual(error.path, path, error.description, file: file, line: line)
                if !contains.isEmpty { XCTAssertTrue(error.message.contains(contains), error.description, file: file, line: line) }
            }
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(1), file: file, line: line)
        }
    }

    func testIRIntegersNear2To63AreRefusedWhereTheyAreRead() {
        let big = "9223372036854775807"
        expectRefused(net("{\"type\":\"softmax\",\"variant\":\"grid\",\"rows\":\(big),\"cols\":3}"), .invalidIR, path: "layers[0].rows", contains: "at most 2^31")
        expectRefused(net("{\"type\":\"softmax\",\"variant\":\"grid\",\"rows\":3,\"cols\":-\(big)}"), .invalidIR, path: "layers[0].cols")
        expectRefused(net("{\"type\":\"softmax\",\"variant\":\"adaptive\",\"head_size\":\(big),\"clusters\":[3]}"), .invalidIR, path: "layers[0].head_size")
        expectRefused(net("{\"type\":\"softmax\",\"variant\":\"adaptive\",\"head_size\":2,\"clusters\":[\(big),\(big)]}"), .invalidIR, path: "layers[0].clusters[0]")
        expectRefused(net("{\"type\":\"parallel\",\"combine\":\"grid_scatter\",\"grid\":{\"rows\":\(big),\"cols\":3,\"layers\":5,\"positions\":[[0,0,0]]},\"branches\":[{\"type\":\"dense\",\"units\":2}]}"),
                      .invalidIR, path: "layers[0].grid.rows")
        expectRefused(net("{\"type\":\"dense\",\"units\":4294967296}"), .invalidIR, path: "layers[0].units")
    }

    func testProductsOfInRangeIntegersAreChecked() {
        // Each value is at most 2^31, their product is not: a grid of 2^31 × 2^31 × 2^31 cells.
        let m = "2147483648"
        expectRefused(net("{\"type\":\"parallel\",\"combine\":\"grid_scatter\",\"grid\":{\"rows\":\(m),\"cols\":\(m),\"layers\":\(m),\"positions\":[[1,1,1]]},\"branches\":[{\"type\":\"dense\",\"units\":2}]}"),
                      .invalidIR, path: "layers[0].grid", contains: "more than 2^31 cells")
        expectRefused(net("{\"type\":\"softmax\",\"variant\":\"grid\",\"rows\":\(m),\"cols\":\(m)}"), .shapeMismatch, path: "layers[0]")
        expectRefused(net("{\"type\":\"dense\",\"units\":\(m)}", input: "[\(m)]"), .invalidIR, path: "layers[0].units", contains: "more than 2^31 elements")
    }

    func testSavedTensorShapesAreCheckedProducts() {
        let json = "{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[2]},\"layers\":[{\"type\":\"dense\",\"units\":1}],"
            + "\"weights\":{\"layers.0.weight\":{\"dtype\":\"f32\",\"shape\":[2147483648,2147483648,2147483648],\"data\":\"\"},"
            + "\"layers.0.bias\":{\"dtype\":\"f32\",\"shape\":[1],\"data\":\"AAAAAA==\"}}}"
        XCTAssertThrowsError(try AnyNetwork.load(json: json)) { e in
            XCTAssertEqual((e as? LoomError)?.path, "weights.layers.0.weight.shape", "\(e)")
        }
    }

    func testTheMemoryBudgetRefusesWhatWouldNotFitBeforeAllocating() throws {
        let saved = Limits.memoryBytes
        defer { Limits.memoryBytes = saved }
        Limits.memoryBytes = 64 << 20
        // Two 46,340² layers: 17 GB of weights and gradients each (an allocation failure before).
        let huge = net("{\"type\":\"dense\",\"units\":46340},{\"type\":\"dense\",\"units\":46340}", input: "[46340]")
        let start = ContinuousClock.now
        XCTAssertThrowsError(try AnyNetwork.load(json: huge)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidIR)
            XCTAssertTrue("\(e)".contains("memory budget of 64.0 MiB"), "\(e)")
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
        // Describing it allocates nothing: the blueprint is shapes only, its counts from shapes.
        guard case .f32(let shapeOnly, _) = try AnyNetwork.blueprint(json: huge) else { return XCTFail("f32 expected") }
        XCTAssertEqual(shapeOnly.params.scalarCount, 2 * (46340 * 46340 + 46340))
        XCTAssertTrue(shapeOnly.params.values.allSatisfy { $0.data.isEmpty })
        // A batch too big for the budget is refused when the batch is known.
        guard case .f32(let small, _) = try AnyNetwork.load(json: net("{\"type\":\"dense\",\"units\":1024}", input: "[1024]")) else { return XCTFail() }
        XCTAssertEqual(small.activationBytes(batch: 1), 2 * 1024 * 4)
        XCTAssertThrowsError(try small.forward(Tensor(zeros: [10_000, 1024]))) { e in
            XCTAssertEqual((e as? LoomError)?.path, "input", "\(e)")
            XCTAssertTrue("\(e)".contains("a pass over 10000 samples"), "\(e)")
        }
        XCTAssertNoThrow(try small.forward(Tensor(zeros: [2, 1024])))
    }

    func testCheckedArithmetic() {
        XCTAssertNil(Limits.product(Int.max, 2))
        XCTAssertNil(Limits.product(-1, 2))
        XCTAssertNil(Limits.product([1 << 31, 1 << 31, 1 << 31]))
        XCTAssertEqual(Limits.product([1 << 31, 1 << 31]), 1 << 62)
        XCTAssertEqual(Limits.product([]), 1)
        XCTAssertNil(Limits.sum(Int.max, 1))
        XCTAssertEqual(Limits.sum(2, 3), 5)
        XCTAssertEqual(Limits.describeBytes(512), "512 B")
        XCTAssertEqual(Limits.describeBytes(3 << 29), "1.5 GiB")
    }

    func testTrainingThatDivergesStopsWithAnErrorInsteadOfAResult() throws {
        // Regression input: the loss stays finite for a step while the weights overflow to ±∞.
        let json = "{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[2]},\"layers\":[{\"type\":\"dense\",\"units\":1}],"
            + "\"training\":{\"loss\":\"mse\",\"optimizer\":{\"type\":\"sgd\",\"lr\":1e308},\"epochs\":3,\"batch_size\":4}}"
        guard case .f32(let n, _) = try AnyNetwork.load(json: json) else { return XCTFail() }
        let trainer = Trainer(network: n, spec: n.spec.training!, context: SerialContext())
        let x = try Tensor<Float>(shape: [4, 2], data: [0, 0, 0, 1, 1, 0, 1, 1]), t = try Tensor<Float>(shape: [4, 1], data: [0, 1, 1, 0])
        XCTAssertThrowsError(try trainer.fit(inputs: x, targets: t)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .nonFinite, "\(e)")
        }
    }
}
