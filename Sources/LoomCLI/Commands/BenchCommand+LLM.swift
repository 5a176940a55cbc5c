import Loom
import LoomCore
import LoomNN
import Glibc

/// `loom bench --mode llm`: prompt processing (one prefill of N tokens) and generation (M greedy
/// tokens through the KV cache) in tokens per second, best of --repeats, and the peak resident
/// memory of the process.
enum LLMBench {
    static func run(model: String, weights: String, promptTokens n: Int, genTokens m: Int, repeats: Int,
                    context: ComputeContext, device: Device) throws {
        guard n >= 1, m >= 1 else { throw LoomError(.invalidArgument, "--prompt-tokens/--gen-tokens", "must be at least 1") }
        let mode: GGUFWeightMode = weights == "dequantized" ? .dequantized : .blocks
        let t0 = LoomCommand.Bench.now()
        let gen = try TextGenerator(gguf: model, weights: mode)
        if device != .cpu, let why = gen.attachResidentGPU(context) { throw why }
        let load = LoomCommand.Bench.now() - t0
        // A fixed, varied prompt: ids from a Philox stream over the vocabulary (no special ids < 17).
        let rng = Philox(seed: 7)
        let prompt = (0..<n).map { 17 + Int(rng.uint32(stream: StreamID.of("bench-llm"), index: UInt64($0)) % UInt32(gen.config.vocabSize - 17)) }
        // One prefill, then m greedy tokens: the ids, every step's logits, and the two times.
        func decode() throws -> (ids: [Int], steps: [[Float]], prefill: Double, generation: Double) {
            let session = try gen.session(capacity: n + m, context: context)
            let a = LoomCommand.Bench.now()
            var logits = try session.step(prompt)
            let b = LoomCommand.Bench.now()
            var ids = [Int](), steps = [logits]
            for i in 0..<m {
                let next = try Sampler.next(logits, history: [], settings: .greedy, step: UInt64(i))
                ids.append(next)
                logits = try session.step([next])
                steps.append(logits)
            }
            return (ids, steps, b - a, LoomCommand.Bench.now() - b)
        }
        var bestPP = Double.infinity, bestTG = Double.infinity
        var generated = [Int]()
        var logitHash = BitHash()
        for _ in 0..<repeats {
            let r = try decode()
            bestPP = Swift.min(bestPP, r.prefill)
            bestTG = Swift.min(bestTG, r.generation)
            generated = r.ids
            // Every step's logits, as one hash (the CPU and the GPU must agree on each bit).
            logitHash = BitHash()
            for l in r.steps { for v in l { logitHash.addUInt32(v.bitPattern) } }
        }
        if let v = getenv("LOOM_GPU_PROFILE"), String(cString: v) == "1", let d = gen.decoder {
            // One more prefill and decode, every kernel waited for and timed.
            d.profiling = true
            _ = try decode()
            for l in d.profileLines { note("profile llm: \(l) (prefill \(n) + \(m) steps)") }
            d.profiling = false
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        out("llm weights=\(weights) threads=\(context.threads) load_s=\(load) pp_tokens=\(n) pp_tok_s=\(Double(n) / bestPP) tg_tokens=\(m) tg_tok_s=\(Double(m) / bestTG) peak_rss_mib=\(Double(usage.ru_maxrss) / 1024) ids_hash=\(Tensor<Float>(uncheckedShape: [generated.count], data: generated.map { Float($0) }).bitHash.hex) logits_hash=\(logitHash.hex) device=\(gen.decoder?.name ?? "cpu")")
    }
}
