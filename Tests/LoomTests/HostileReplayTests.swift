import Dispatch
import Foundation
import XCTest
import _LoomFuzzTargets

/// Issue 16: every input under `Fixtures/hostile/<target>/` (boundary values written by
/// fuzz/tools/make-hostile.py, and whatever libFuzzer found through scripts/fuzz) goes through its
/// fuzz target again. A typed error is the right answer; a trap kills this test process (CI fails),
/// and each input must be answered within 5 s and bounded memory.
final class HostileReplayTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let hostile = root.appendingPathComponent("Fixtures/hostile")

    /// The regular files of `Fixtures/hostile/<target>/`, sorted by name.
    static func inputs(_ target: FuzzTarget) -> [URL] {
        let dir = hostile.appendingPathComponent(target.rawValue)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return names.filter { !$0.hasPrefix(".") }.sorted().map { dir.appendingPathComponent($0) }
            .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
    }

    func testEveryTargetHasHostileInputs() {
        for target in FuzzTarget.allCases {
            XCTAssertFalse(Self.inputs(target).isEmpty, "Fixtures/hostile/\(target.rawValue)/ has no inputs (fuzz/tools/make-hostile.py writes them)")
        }
        // A folder that names no target would never be replayed.
        let folders = (try? FileManager.default.contentsOfDirectory(atPath: Self.hostile.path)) ?? []
        for f in folders where !f.hasPrefix(".") {
            XCTAssertNotNil(FuzzTarget(rawValue: f), "Fixtures/hostile/\(f) is not a fuzz target (\(FuzzTarget.allCases.map(\.rawValue)))")
        }
    }

    /// Each input returns within 5 s and, where Linux lets the peak resident size be reset
    /// (/proc/self/clear_refs), raises it by less than the targets' memory budget plus 128 MiB.
    func testHostileInputsAreAnsweredQuickly() throws {
        var replayed = 0
        let allowance = FuzzTargets.memoryBudget + (128 << 20)
        for target in FuzzTarget.allCases {
            for url in Self.inputs(target) {
                let bytes = [UInt8](try Data(contentsOf: url))
                let name = "\(target.rawValue)/\(url.lastPathComponent)"
                let resident = Self.resetPeakResident()
                let start = DispatchTime.now().uptimeNanoseconds
                FuzzTargets.run(target, bytes)
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                XCTAssertLessThan(seconds, 5, "\(name) took \(seconds) s")
                if let before = resident, let peak = Self.statusBytes("VmHWM") {
                    XCTAssertLessThan(peak - before, allowance,
                                      "\(name) raised the peak resident size by \((peak - before) >> 20) MiB (budget \(FuzzTargets.memoryBudget >> 20) MiB)")
                }
                replayed += 1
            }
        }
        XCTAssertGreaterThanOrEqual(replayed, FuzzTarget.allCases.count)
    }

    /// Resets the peak resident size to the current one (Linux: "5" into /proc/self/clear_refs)
    /// and returns the current one; nil where that is not possible.
    static func resetPeakResident() -> Int? {
        guard (try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)) != nil,
              let now = statusBytes("VmRSS"), let peak = statusBytes("VmHWM"), peak <= now + (16 << 20) else { return nil }
        return now
    }

    /// A "kB" field of /proc/self/status, in bytes.
    static func statusBytes(_ key: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(key + ":") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kb = Int(fields[1].trimmingCharacters(in: .whitespaces)) else { return nil }
            return kb * 1024
        }
        return nil
    }

    /// The structured mutator replays from its seed, keeps to the size limit, and puts boundary
    /// values where the fuzzers need them (a number of the IR, a field of a GGUF file).
    func testBoundaryMutatorIsDeterministic() throws {
        let ir = Array(#"{"format":"loom","version":1,"input":{"shape":[6]},"layers":[{"type":"softmax","variant":"grid","rows":2,"cols":3}]}"#.utf8)
        var changedNumber = false
        for seed in UInt32(0)..<200 {
            var a = FuzzRandom(seed: seed), b = FuzzRandom(seed: seed)
            let x = BoundaryMutator.mutate(ir, target: .ir, maxSize: 4096, random: &a)
            let y = BoundaryMutator.mutate(ir, target: .ir, maxSize: 4096, random: &b)
            XCTAssertEqual(x, y, "seed \(seed)")
            if let x {
                XCTAssertLessThanOrEqual(x.count, 4096)
                let text = String(decoding: x, as: UTF8.self)
                if BoundaryMutator.numbers.contains(where: { text.contains(":\($0),") || text.contains(":\($0)}") || text.contains("[\($0)]") }) {
                    changedNumber = true
                }
            }
            XCTAssertNil(BoundaryMutator.mutate(ir, target: .ir, maxSize: 8, random: &a), "larger than maxSize")
        }
        XCTAssertTrue(changedNumber)

        let gguf = [UInt8](try Data(contentsOf: Self.hostile.appendingPathComponent("gguf/tiny-llama-block-count-4194305.gguf")))
        var differing = Set<Int>()
        for seed in UInt32(0)..<300 {
            var r = FuzzRandom(seed: seed)
            guard let m = BoundaryMutator.mutate(gguf, target: .gguf, maxSize: gguf.count, random: &r) else { continue }
            XCTAssertEqual(m.count, gguf.count)
            if let i = m.indices.first(where: { m[$0] != gguf[$0] }) { differing.insert(i) }
        }
        XCTAssertGreaterThan(differing.count, 50, "GGUF mutations should reach many fields")
    }
}
