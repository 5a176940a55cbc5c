import LoomCore
import LoomNN
import XCTest

/// A GGUF Llama's metadata is checked against its tensor table before a network is built: a block
/// count, vocabulary or width that the tensors do not have is an error at once (issue 16: a file
/// with one block claiming 4,194,305 ran `loom generate` for minutes; 2^31 − 1 allocated until death).
final class GGUFLlamaCrossCheckTests: XCTestCase {
    /// A 1-block Llama (vocab 8, width 4, 2 heads of 2, 1 KV head, FFN 8), f32 zeros, with
    /// `overrides` replacing metadata values.
    static func tinyLlama(_ overrides: [(String, MV)] = []) -> [UInt8] {
        var meta: [(String, MV)] = [("general.architecture", .str("llama")), ("llama.block_count", .u32(1)),
                                    ("llama.embedding_length", .u32(4)), ("llama.feed_forward_length", .u32(8)),
                                    ("llama.attention.head_count", .u32(2)), ("llama.attention.head_count_kv", .u32(1)),
                                    ("llama.vocab_size", .u32(8)), ("llama.context_length", .u32(16))]
        for (k, v) in overrides {
            if let i = meta.firstIndex(where: { $0.0 == k }) { meta[i].1 = v } else { meta.append((k, v)) }
        }
        func t(_ name: String, _ dims: [UInt64]) -> TensorSpec {
            TensorSpec(name: name, dims: dims, type: 0, data: [UInt8](repeating: 0, count: 4 * Int(dims.reduce(1, *))))
        }
        let tensors = [t("token_embd.weight", [4, 8]), t("blk.0.attn_norm.weight", [4]), t("blk.0.attn_q.weight", [4, 4]),
                       t("blk.0.attn_k.weight", [4, 2]), t("blk.0.attn_v.weight", [4, 2]), t("blk.0.attn_output.weight", [4, 4]),
                       t("blk.0.ffn_norm.weight", [4]), t("blk.0.ffn_gate.weight", [4, 8]), t("blk.0.ffn_up.weight", [4, 8]),
                       t("blk.0.ffn_down.weight", [8, 4]), t("output_norm.weight", [4])]
        return makeGGUF(metadata: meta, tensors: tensors)
    }

    func testTheTinyLlamaBuilds() throws {
        let (net, config) = try LlamaGGUF.network(try parseGGUF(Self.tinyLlama()), weights: .dequantized)
        XCTAssertEqual(config.layers, 1)
        XCTAssertEqual(net.outputShape, [1, 8])
    }

    func testDequantizedWeightsMustFitTheMemoryBudget() throws {
        let saved = Limits.memoryBytes
        defer { Limits.memoryBytes = saved }
        Limits.memoryBytes = 1024  // the tiny model's 188 f32 values and gradients take 1,504 bytes
        XCTAssertThrowsError(try LlamaGGUF.network(try parseGGUF(Self.tinyLlama()), weights: .dequantized)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .invalidModel, "\(e)")
            XCTAssertTrue("\(e)".contains("f32 weights and their gradients would need 1.5 KiB"), "\(e)")
        }
        Limits.memoryBytes = 1504
        XCTAssertNoThrow(try LlamaGGUF.network(try parseGGUF(Self.tinyLlama()), weights: .dequantized))
    }

    func assertRefused(_ overrides: [(String, MV)], key: String, message: String, file: StaticString = #filePath, line: UInt = #line) {
        let start = ContinuousClock.now
        XCTAssertThrowsError(try LlamaGGUF.network(try parseGGUF(Self.tinyLlama(overrides)), weights: .blocks), file: file, line: line) { e in
            guard let e = e as? LoomError else { return XCTFail("\(e)", file: file, line: line) }
            XCTAssertEqual(e.kind, .invalidModel, "\(e)", file: file, line: line)
            XCTAssertTrue(e.path.contains(key), "\(e)", file: file, line: line)
            XCTAssertTrue(e.message.contains(message), "\(e)", file: file, line: line)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1), file: file, line: line)
    }

    func testBlockCountsTheTensorsDoNotHaveAreRefusedAtOnce() {
        assertRefused([("llama.block_count", .u32(4_194_305))], key: "llama.block_count", message: "holds tensors for 1 block")
        assertRefused([("llama.block_count", .u32(0x7FFF_FFFF))], key: "llama.block_count", message: "is 2147483647")
        assertRefused([("llama.block_count", .u64(1 << 62))], key: "llama.block_count", message: "tensors for 1 block")
    }

    func testSizesTheTensorsDoNotHaveAreRefused() {
        assertRefused([("llama.vocab_size", .u32(1 << 30))], key: "vocab_size", message: "[1073741824, 4]")
        assertRefused([("llama.embedding_length", .u32(8))], key: "vocab_size, embedding_length", message: "[8, 4]")
        assertRefused([("llama.feed_forward_length", .u64(1 << 40))], key: "feed_forward_length", message: "[8, 4]")
        assertRefused([("llama.attention.head_count_kv", .u32(2))], key: "head_count_kv", message: "[2, 4]")
    }
}
