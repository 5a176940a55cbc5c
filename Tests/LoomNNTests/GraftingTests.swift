import XCTest
import LoomCore
import LoomNN

/// Grafting: the super-network computes exactly the experts' combination, owns copies of their
/// weights, and with frozen experts trains only its gate.
final class GraftingTests: XCTestCase {
    func expert(_ seed: UInt64, units: Int = 3, act: Activation = .tanh) throws -> Network<Float> {
        try Network<Float>(NetworkSpec(name: "e\(seed)", dtype: .f32, seed: seed, inputShape: [4],
                                       layers: [.dense(units: 6, activation: act, bias: true), .dense(units: units, activation: .linear, bias: true)]))
    }

    func testGraftComputesTheExpertsCombination() throws {
        let a = try expert(1), b = try expert(2, act: .relu)
        let x: Tensor<Float> = Init.uniform([5, 4], bound: 1, seed: 3, name: "x")
        let ya = try a.forward(x), yb = try b.forward(x)
        let add = try Grafting.graft([a, b], combine: .add)
        XCTAssertEqual(try add.forward(x).data.map(\.bitPattern), zip(ya.data, yb.data).map { ($0 + $1).bitPattern })
        let concat = try Grafting.graft([a, b], combine: .concat)
        let yc = try concat.forward(x)
        XCTAssertEqual(yc.shape, [5, 6])
        for r in 0..<5 {
            XCTAssertEqual(Array(yc.data[(r * 6)..<(r * 6 + 3)]).map(\.bitPattern), Array(ya.data[(r * 3)..<(r * 3 + 3)]).map(\.bitPattern))
            XCTAssertEqual(Array(yc.data[(r * 6 + 3)..<(r * 6 + 6)]).map(\.bitPattern), Array(yb.data[(r * 3)..<(r * 3 + 3)]).map(\.bitPattern))
        }
        // Tied weights inside an expert follow it into the graft.
        let lm = ReferenceNetworks.cases(dtype: .f32).first { $0.name.hasPrefix("lm_tied") }!
        let l1 = try Network<Float>(lm.spec), l2 = try Network<Float>(lm.spec)
        let ids = ReferenceNetworks.input(lm, batch: 2, as: Float.self)
        let y1 = try l1.forward(ids)
        XCTAssertEqual(try Grafting.graft([l1, l2], combine: .average).forward(ids).data.map(\.bitPattern),
                       y1.data.map { (($0 + $0) * Float(0.5)).bitPattern })
    }

    func testGraftOwnsItsWeights() throws {
        let a = try expert(1), b = try expert(2)
        let before = (a.params.bitHash.hex, b.params.bitHash.hex)
        let g = try Grafting.graft([a, b], combine: .add)
        let x: Tensor<Float> = Init.uniform([8, 4], bound: 1, seed: 5, name: "x")
        let t: Tensor<Float> = Init.uniform([8, 3], bound: 1, seed: 6, name: "t")
        let trainer = Trainer(network: g, spec: TrainingSpec(loss: .mse, optimizer: .sgd(lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0)),
                              context: SerialContext())
        let gBefore = g.params.bitHash.hex
        for _ in 0..<3 { try trainer.step(x, t) }
        XCTAssertNotEqual(g.params.bitHash.hex, gBefore, "the graft trained")
        XCTAssertEqual(a.params.bitHash.hex, before.0, "training the graft leaves expert 0 as it was")
        XCTAssertEqual(b.params.bitHash.hex, before.1)
        let gAfter = g.params.bitHash.hex
        a.params.values[0].data[0] += 1
        XCTAssertEqual(g.params.bitHash.hex, gAfter, "changing an expert leaves the graft as it was")
    }

    func testFilterGraftTrainsOnlyTheGate() throws {
        // Two experts each right on half of the inputs (the sign of feature 0 decides which);
        // the gate learns to pick.
        let a = try expert(1, units: 1), b = try expert(2, units: 1)
        try a.setParameter("layers.1.weight", Tensor(shape: [1, 6], data: [0, 0, 0, 0, 0, 0]))
        try a.setParameter("layers.1.bias", Tensor(shape: [1], data: [1]))
        try b.setParameter("layers.1.weight", Tensor(shape: [1, 6], data: [0, 0, 0, 0, 0, 0]))
        try b.setParameter("layers.1.bias", Tensor(shape: [1], data: [-1]))
        let g = try Grafting.graft([a, b], combine: .filter, freezeExperts: true, seed: 4)
        XCTAssertEqual(g.params.names.filter { !$0.hasPrefix("layers.0.branches.") }, ["layers.0.gate.weight", "layers.0.gate.bias"])
        XCTAssertTrue(zip(g.params.names, g.params.frozen).allSatisfy { $0.hasPrefix("layers.0.branches.") == $1 }, "experts frozen, gate free")
        let x: Tensor<Float> = Init.uniform([32, 4], bound: 1, seed: 7, name: "x")
        let t = Tensor(uncheckedShape: [32, 1], data: (0..<32).map { x.data[$0 * 4] > 0 ? Float(1) : -1 })
        let trainer = Trainer(network: g, spec: TrainingSpec(loss: .mse, optimizer: .adamw(lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0)),
                              context: SerialContext())
        let experts = g.params.names.indices.filter { g.params.frozen[$0] }.map { g.params.values[$0].data.map(\.bitPattern) }
        let first = try trainer.step(x, t).loss
        var last = first
        for _ in 0..<150 { last = try trainer.step(x, t).loss }
        XCTAssertLessThan(last, first * 0.3, "the gate learned to route (loss \(first) → \(last))")
        XCTAssertEqual(g.params.names.indices.filter { g.params.frozen[$0] }.map { g.params.values[$0].data.map(\.bitPattern) }, experts,
                       "frozen experts did not move")
        // The freeze list is the graft's training block: saved and loaded, the experts stay frozen.
        XCTAssertEqual(g.spec.training?.freeze, ["layers.0.branches.0", "layers.0.branches.1"])
        guard case .f32(let back, _) = try AnyNetwork.load(json: ModelCodec.encode(g), source: "graft") else { return XCTFail("dtype") }
        XCTAssertEqual(back.params.frozen, g.params.frozen)
        XCTAssertEqual(back.params.bitHash, g.params.bitHash)
    }

    /// An expert's own frozen layers stay frozen in the graft, through save and load.
    func testExpertsOwnFreezeCarriesIntoTheGraft() throws {
        let spec = NetworkSpec(name: "e", dtype: .f32, seed: 3, inputShape: [3],
                               layers: [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 2, activation: .linear, bias: true)],
                               training: TrainingSpec(freeze: ["layers.0"]))
        let a = try Network<Float>(spec), b = try Network<Float>(NetworkSpec(name: "f", dtype: .f32, seed: 4, inputShape: [3],
                                                                            layers: [.dense(units: 2, activation: .linear, bias: true)]))
        let g = try Grafting.graft([a, b], combine: .add)
        XCTAssertEqual(g.spec.training?.freeze, ["layers.0.branches.0.layers.0"])
        guard case .f32(let back, _) = try AnyNetwork.load(json: ModelCodec.encode(g), source: "graft") else { return XCTFail("dtype") }
        XCTAssertEqual(back.params.frozen, g.params.frozen)
        XCTAssertEqual(zip(g.params.names, g.params.frozen).filter { $0.1 }.map { $0.0 },
                       ["layers.0.branches.0.layers.0.weight", "layers.0.branches.0.layers.0.bias"])
    }

    /// `training.freeze` in the IR: whole path components; a prefix naming no parameter is an error.
    func testFreezeInTheIR() throws {
        var spec = NetworkSpec(name: "f", dtype: .f32, seed: 1, inputShape: [3],
                               layers: [.dense(units: 4, activation: .tanh, bias: true), .dense(units: 2, activation: .linear, bias: true)],
                               training: TrainingSpec(freeze: ["layers.0"]))
        let n = try Network<Float>(IRDecoder.decode(json: IREncoder.encode(spec).serialized(), source: "ir"))
        XCTAssertEqual(n.params.frozen, [true, true, false, false])
        spec.training!.freeze = ["layers.1.w"]
        XCTAssertThrowsError(try Network<Float>(spec)) { e in XCTAssertTrue("\(e)".contains("training.freeze[0]"), "\(e)") }
        XCTAssertThrowsError(try IRDecoder.decode(json: #"{"format": "loom", "version": 1, "input": {"shape": [3]}, "layers": [{"type": "dense", "units": 2}], "training": {"freeze": [3]}}"#)) { e in
            XCTAssertTrue("\(e)".contains("training.freeze[0]"), "\(e)")
        }
    }

    func testBadInput() throws {
        func expect(_ words: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in XCTAssertTrue("\(e)".contains(words), "\(e)") }
        }
        let a = try expert(1)
        expect("at least 2 networks") { _ = try Grafting.graft([a], combine: .add) }
        let other = try Network<Float>(NetworkSpec(name: "o", dtype: .f32, seed: 1, inputShape: [5], layers: [.dense(units: 3, activation: .tanh, bias: true)]))
        expect("input [5] differs from expert 0's [4]") { _ = try Grafting.graft([a, other], combine: .add) }
        let half = try Network<Float>(NetworkSpec(name: "h", dtype: .bf16, seed: 1, inputShape: [4], layers: [.dense(units: 3, activation: .tanh, bias: true)]))
        expect("dtype bf16 differs") { _ = try Grafting.graft([a, half], combine: .add) }
        let wide = try expert(3, units: 5)
        XCTAssertThrowsError(try Grafting.graft([a, wide], combine: .add)) { e in XCTAssertEqual((e as? LoomError)?.kind, .shapeMismatch, "\(e)") }
        XCTAssertNoThrow(try Grafting.graft([a, wide], combine: .concat))
    }
}
