import XCTest
import LoomCore
import LoomNN

final class SamplerTests: XCTestCase {
    func counts(_ logits: [Float], _ s: SamplerSettings, steps: Int = 4000, history: [Int] = []) throws -> [Int] {
        var c = [Int](repeating: 0, count: logits.count)
        for step in 0..<steps { c[try Sampler.next(logits, history: history, settings: s, step: UInt64(step))] += 1 }
        return c
    }

    func testGreedyTiesAndRepetitionPenalty() throws {
        XCTAssertEqual(try Sampler.next([1, 3, 3, 2] as [Float], history: [], settings: .greedy, step: 0), 1)
        // 2/1.1 = 1.82 < 1.9: the penalised token loses; a negative logit is multiplied.
        let pen = SamplerSettings(repetitionPenalty: 1.1)
        XCTAssertEqual(try Sampler.next([2, 1.9] as [Float], history: [0, 0], settings: pen, step: 0), 1)
        XCTAssertEqual(try Sampler.next([-1, -1.05] as [Float], history: [0], settings: pen, step: 0), 1)
        XCTAssertEqual(try Sampler.next([2, 1.9] as [Float], history: [], settings: pen, step: 0), 0)
    }

    func testSeededDrawsAreReproducibleAndFollowTheDistribution() throws {
        let logits: [Float] = [log(0.5), log(0.3), log(0.2)]
        let s = SamplerSettings(temperature: 1, seed: 42)
        let a = try (0..<50).map { try Sampler.next(logits, history: [], settings: s, step: UInt64($0)) }
        let b = try (0..<50).map { try Sampler.next(logits, history: [], settings: s, step: UInt64($0)) }
        XCTAssertEqual(a, b)
        var other = s
        other.seed = 43
        XCTAssertNotEqual(a, try (0..<50).map { try Sampler.next(logits, history: [], settings: other, step: UInt64($0)) })
        let c = try counts(logits, s)
        for (i, p) in [0.5, 0.3, 0.2].enumerated() {
            XCTAssertEqual(Double(c[i]) / 4000, p, accuracy: 0.03, "token \(i): \(c)")
        }
        // Temperature sharpens: T = 0.25 makes token 0 (p ∝ 0.5⁴ …) dominate.
        let sharp = try counts(logits, SamplerSettings(temperature: 0.25, seed: 1), steps: 1000)
        XCTAssertGreaterThan(sharp[0], 800)
    }

    func testFilters() throws {
        let logits: [Float] = [log(0.5), log(0.3), log(0.2)]
        XCTAssertEqual(try counts(logits, SamplerSettings(temperature: 1, topK: 1, seed: 3), steps: 200), [200, 0, 0])
        let k2 = try counts(logits, SamplerSettings(temperature: 1, topK: 2, seed: 3), steps: 1000)
        XCTAssertEqual(k2[2], 0)
        XCTAssertGreaterThan(k2[1], 250)
        // top-p 0.6: 0.5 < 0.6, 0.5 + 0.3 ≥ 0.6 → two kept; top-p 0.5 keeps one.
        let p6 = try counts(logits, SamplerSettings(temperature: 1, topP: 0.6, seed: 5), steps: 1000)
        XCTAssertEqual(p6[2], 0)
        XCTAssertGreaterThan(p6[1], 250)
        XCTAssertEqual(try counts(logits, SamplerSettings(temperature: 1, topP: 0.5, seed: 5), steps: 200), [200, 0, 0])
        // min-p 0.5: keep p ≥ 0.25 → tokens 0 and 1.
        let m = try counts(logits, SamplerSettings(temperature: 1, minP: 0.5, seed: 7), steps: 1000)
        XCTAssertEqual(m[2], 0)
        XCTAssertGreaterThan(m[1], 250)
    }

    func testBadSettingsAndLogits() {
        for (s, path) in [(SamplerSettings(temperature: -1), "temperature"), (SamplerSettings(temperature: 1, topK: 0), "top_k"),
                          (SamplerSettings(temperature: 1, topP: 0), "top_p"), (SamplerSettings(temperature: 1, minP: 2), "min_p"),
                          (SamplerSettings(repetitionPenalty: 0), "repetition_penalty")] {
            XCTAssertThrowsError(try Sampler.next([1, 2] as [Float], history: [], settings: s, step: 0)) { e in
                XCTAssertEqual((e as? LoomError)?.path, path)
            }
        }
        XCTAssertThrowsError(try Sampler.next([1, .nan] as [Float], history: [], settings: .greedy, step: 0)) { e in
            XCTAssertEqual((e as? LoomError)?.kind, .nonFinite)
        }
        XCTAssertThrowsError(try Sampler.next([Float](), history: [], settings: .greedy, step: 0))
    }
}
