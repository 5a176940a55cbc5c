import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the determinism self-check and print one `name hash` line per reference network.")

        @Option(name: .long, parsing: .upToNextOption, help: "Thread counts to compare (default: 1 2 3 8).")
        var threads: [Int] = [1, 2, 3, 8]
        @Option(name: .long, help: "Compare with a golden hash file (one `name hash` per line).")
        var golden: String?
        @Option(name: .long, help: "Also run on this device and require the CPU's bits: cpu, cuda or cuda:N.")
        var device: String = "cpu"

        func run() throws {
            for t in threads where t < 1 || t > 1024 {
                throw LoomError(.invalidArgument, "--threads", "must be between 1 and 1024, got \(t)")
            }
            let goldenLines = try golden.map { try FileIO.readText($0).split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
            let r = try Loom.Verify.run(threads: threads, golden: goldenLines, device: try Device(parsing: device), log: { note($0) })
            for l in r.lines { out(l) }
            if !r.failures.isEmpty {
                for f in r.failures.prefix(20) { note("FAIL: \(f)") }
                throw LoomError(.invalidModel, "verify", "\(r.failures.count) determinism check(s) failed")
            }
            note("verify: \(r.lines.count) hashes identical across threads \(threads.map { String($0) }.joined(separator: ", ")); batch invariance holds" + (golden == nil ? "" : "; golden file matches"))
        }
    }
}
