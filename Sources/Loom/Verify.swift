import LoomCore
import LoomNN
import LoomGPU

/// The determinism self-check behind `loom verify`.
public enum Verify {
    public struct Result {
        public var lines: [String]
        /// Problems found (empty when everything held).
        public var failures: [String]
    }

    /// Runs every reference network on each thread count and checks the hashes agree; checks
    /// batch invariance (each sample alone vs. inside a batch of 64) for each network; and, when
    /// `golden` is given, compares with the golden lines.
    /// With `device` (a GPU), the reference networks also run there and must give the CPU's lines.
    public static func run(threads: [Int], golden: [String]? = nil, device: Device = .cpu,
                           log: (String) -> Void = { _ in }) throws(LoomError) -> Result {
        var failures = [String]()
        let counts = threads.isEmpty ? [1] : threads
        // The device first, so a missing GPU fails before any work.
        let dctx = device == .cpu ? nil : try device.context(threads: counts[0])
        let base = try ReferenceNetworks.hashLines(context: CPUContext(threads: counts[0]))
        for t in counts.dropFirst() {
            let other = try ReferenceNetworks.hashLines(context: CPUContext(threads: t))
            for (a, b) in zip(base, other) where a != b {
                failures.append("threads \(counts[0]) vs \(t): \(a) ≠ \(b)")
            }
            log("threads \(t): \(other == base ? "identical" : "DIFFERENT")")
        }
        if let dctx {
            let other = try ReferenceNetworks.hashLines(context: dctx)
            for (a, b) in zip(base, other) where a != b { failures.append("\(device) vs cpu: \(b) ≠ \(a)") }
            var detail = ""
            if let g = dctx as? CUDAContext {
                detail = " (\(g.device.name), \(g.products) matrix products on the GPU"
                    + (g.failures > 0 ? ", \(g.failures) fell back to the CPU: \(g.lastError?.description ?? "")" : "") + ")"
                if g.products == 0 { failures.append("\(device): no matrix product ran on the GPU") }
            }
            log("\(device): \(other == base ? "identical" : "DIFFERENT")\(detail)")
            // Again with every network that can train device-resident doing so (ResidentNetwork).
            let tally = ResidentTally()
            let resident = try ReferenceNetworks.hashLines(context: dctx, prepare: tally.preparation)
            for (a, b) in zip(base, resident) where a != b { failures.append("\(device) resident vs cpu: \(b) ≠ \(a)") }
            if tally.resident == 0 { failures.append("\(device): no reference network trained device-resident") }
            log("\(device) resident training: \(resident == base ? "identical" : "DIFFERENT") (\(tally.summary))")
        }
        let ctx = CPUContext(threads: counts.max() ?? 1)
        for c in ReferenceNetworks.cases(dtype: .f32) { failures += try batchInvariance(c, as: Float.self, context: ctx) }
        for c in ReferenceNetworks.cases(dtype: .f64) { failures += try batchInvariance(c, as: Double.self, context: ctx) }
        for dt in ReferenceNetworks.executionDTypes {
            for c in ReferenceNetworks.cases(dtype: dt) { failures += try batchInvariance(c, as: Float.self, context: ctx) }
        }
        log("batch invariance (1 vs 64): \(failures.isEmpty ? "identical" : "see failures")")
        if let g = golden {
            let wanted = g.filter { !$0.isEmpty && !$0.hasPrefix("#") }
            if wanted != base {
                for (a, b) in zip(base, wanted) where a != b { failures.append("golden: got \(a), expected \(b)") }
                if wanted.count != base.count { failures.append("golden: \(wanted.count) lines expected, \(base.count) computed") }
            }
            log("golden hashes: \(wanted == base ? "identical" : "DIFFERENT")")
        }
        return Result(lines: base, failures: failures)
    }

    /// Each of 64 samples run alone gives the bits of its row in the batch of 64.
    public static func batchInvariance<T: LoomFloat>(_ c: ReferenceNetworks.Case, as: T.Type, context: ComputeContext) throws(LoomError) -> [String] {
        let net = try Network<T>(c.spec)
        let x = ReferenceNetworks.input(c, batch: 64, as: T.self)
        let y = try net.forward(x, context: context)
        var out = [String]()
        for i in 0..<64 {
            let yi = try net.forward(x.batchSlice(i..<(i + 1)), context: context)
            if yi.data.map({ $0.bits64 }) != y.batchSlice(i..<(i + 1)).data.map({ $0.bits64 }) {
                out.append("\(c.name): sample \(i) alone differs from its row in a batch of 64")
                break
            }
        }
        return out
    }
}
