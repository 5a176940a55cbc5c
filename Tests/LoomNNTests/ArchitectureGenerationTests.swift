import XCTest
import LoomCore
import LoomNN

/// Architecture generation: seeded, diverse, every candidate a valid network; the search trains
/// and ranks them deterministically.
final class ArchitectureGenerationTests: XCTestCase {
    func testGenerationIsSeededDiverseAndValid() throws {
        let a = try ArchitectureGeneration.generate(count: 40, seed: 11, inputWidth: 6, outputs: 3)
        let b = try ArchitectureGeneration.generate(count: 40, seed: 11, inputWidth: 6, outputs: 3)
        let c = try ArchitectureGeneration.generate(count: 40, seed: 12, inputWidth: 6, outputs: 3)
        XCTAssertEqual(a.map(\.spec), b.map(\.spec), "the same seed, the same candidates")
        XCTAssertNotEqual(a.map(\.spec), c.map(\.spec))
        XCTAssertGreaterThanOrEqual(Set(a.flatMap(\.brains)).count, 7, "brains: \(Set(a.flatMap(\.brains)))")
        XCTAssertGreaterThanOrEqual(Set(a.map(\.combine)).count, 4)
        XCTAssertGreaterThanOrEqual(Set(a.map { "\($0.grid.rows)x\($0.grid.cols)" }).count, 5)
        XCTAssertTrue(a.allSatisfy { $0.learningRate >= 1e-4 && $0.learningRate <= 1e-2 })
        let x: Tensor<Float> = Init.uniform([3, 6], bound: 1, seed: 1, name: "x")
        for cand in a {
            let net = try Network<Float>(cand.spec)
            let y = try net.forward(x)
            XCTAssertEqual(y.shape, [3, 3], cand.summary)
            XCTAssertEqual(net.root.layers.count, 5)
            // The IR round-trips (a generated network saves and loads like any other).
            let again = try IRDecoder.decode(json: JSONValue.object(IREncoder.encode(cand.spec)).serialized(pretty: false), source: "candidate")
            XCTAssertEqual(again, cand.spec, cand.summary)
        }
    }

    func testSearchRanksByValidationLossDeterministically() throws {
        let cands = try ArchitectureGeneration.generate(count: 4, seed: 3, inputWidth: 4, outputs: 2)
        let x: Tensor<Float> = Init.uniform([64, 4], bound: 1, seed: 5, name: "x")
        let y = Tensor<Float>(uncheckedShape: [64], data: (0..<64).map { x.data[$0 * 4] * x.data[$0 * 4 + 1] > 0 ? 1 : 0 })
        let r1 = try ArchitectureGeneration.search(cands, inputs: x, targets: y, loss: .crossEntropy, epochs: 2, batchSize: 16)
        let r2 = try ArchitectureGeneration.search(cands, inputs: x, targets: y, loss: .crossEntropy, epochs: 2, batchSize: 16, context: ShuffledContext())
        XCTAssertEqual(r1.map(\.candidate.index), r2.map(\.candidate.index))
        XCTAssertEqual(r1.map(\.validationLoss), r2.map(\.validationLoss))
        XCTAssertEqual(Set(r1.map(\.candidate.index)), [0, 1, 2, 3])
        XCTAssertEqual(r1.map(\.validationLoss), r1.map(\.validationLoss).sorted())
        XCTAssertTrue(r1.allSatisfy { $0.validationLoss.isFinite && $0.validationAccuracy != nil && $0.trainingSteps == 2 * 3 && $0.parameters > 0 })
    }

    func testBadOptions() {
        func expect(_ words: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in XCTAssertTrue("\(e)".contains(words), "\(e)") }
        }
        expect("must be positive, got 0") { _ = try ArchitectureGeneration.generate(count: 0, seed: 1, inputWidth: 2, outputs: 2) }
        var o = ArchitectureGeneration.Options()
        o.widths = [12]
        expect("multiples of 8") { _ = try ArchitectureGeneration.generate(count: 1, seed: 1, inputWidth: 2, outputs: 2, options: o) }
        o = ArchitectureGeneration.Options()
        o.brains = [(.dense, 0)]
        expect("positive sum") { _ = try ArchitectureGeneration.generate(count: 1, seed: 1, inputWidth: 2, outputs: 2, options: o) }
        o = ArchitectureGeneration.Options()
        o.grids = []
        expect("non-empty") { _ = try ArchitectureGeneration.generate(count: 1, seed: 1, inputWidth: 2, outputs: 2, options: o) }
        expect("validation_split") { _ = try ArchitectureGeneration.search([], inputs: Tensor(zeros: [2, 2]), targets: Tensor(zeros: [2]), loss: .mse, validationSplit: 1) }
    }
}
