import LoomCore
import LoomNN
import XCTest

/// Every layer, activation and combine mode against PyTorch (Fixtures/torch/*.json, made by
/// scripts/fixtures/torch_*.py): forward output, input gradient and parameter gradients of
/// L = Σ output·grad_output, in f64 (tight) and f32 (loose).
final class TorchLayerTests: XCTestCase {
    /// Every layer case of every fixture file (layers, conv, recurrent, attention, softmax_kmeans, …).
    func testF64AgainstPyTorch() throws {
        let cases = try allLayerFixtureCases()
        XCTAssertGreaterThan(cases.count, 140)
        for c in cases { try checkAgainstTorch(c, as: Double.self, rtol: 1e-9, atol: 1e-12) }
    }

    func testF32AgainstPyTorch() throws {
        for c in try allLayerFixtureCases() { try checkAgainstTorch(c, as: Float.self, rtol: 2e-4, atol: 2e-5) }
    }

    /// Every backward against central finite differences in float64, on every fixture case.
    func testBackwardMatchesFiniteDifferences() throws {
        var checked = 0
        for c in try allLayerFixtureCases() { checked += try checkFiniteDifferences(c) }
        XCTAssertGreaterThan(checked, 8000)
    }

    func cases() throws -> [JSONValue] {
        let cases = try Fixture.json("Fixtures/torch/layers.json")["cases"]!.arrayValue!
        XCTAssertGreaterThan(cases.count, 50)
        return cases
    }



    /// The fixtures (all Fixtures/torch/*.json files) cover every layer type, activation and combine mode of the IR.
    func testFixturesCoverTheIR() throws {
        var types = Set<String>(), acts = Set<String>(), modes = Set<String>()
        func walk(_ l: JSONValue) {
            if let t = l["type"]?.stringValue { types.insert(t) }
            if let a = l["activation"] { acts.insert(a.stringValue ?? a["name"]!.stringValue!) }
            if let m = l["combine"]?.stringValue { modes.insert(m) }
            for key in ["layers", "branches"] { for x in l[key]?.arrayValue ?? [] { walk(x) } }
            if let g = l["gate"] { walk(g) }
        }
        for c in try allLayerFixtureCases() { for l in c["network"]!["layers"]!.arrayValue! { walk(l) } }
        XCTAssertEqual(types.subtracting(["parallel"]).union(["parallel"]), Set(LayerSpec.typeNames))
        XCTAssertEqual(acts, Set(Activation.allNames))
        XCTAssertEqual(modes, Set(CombineMode.allCases.map { $0.rawValue }))
    }
}
