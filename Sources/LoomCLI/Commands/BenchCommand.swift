import ArgumentParser
import Loom
import LoomCore
import LoomNN
import LoomGPU
#if canImport(Glibc)
import Glibc
#endif

extension LoomCommand {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure layer and training-step speed (used by scripts/bench).",
            discussion: "Modes: dense (the default; square dense layers of --sizes), conv2d, lstm, mha (forward + backward of one layer), train-cnn, train-mlp (a full training step: forward, loss, backward, AdamW), layers (all but dense), llm (a GGUF model), minilm (sentence embeddings per second with a BERT model directory, --model DIR, batches of --batch, default 32), adapt (the adaptation experiments of every training mode, docs/tweening.md), gpu-gemm (the fixed-order product kernel on GPU 0 vs the CPU's bits) or gpu-math (every DetMath function on GPU 0 vs the CPU's bits; --sizes N: N·1024 inputs).")

        @Option(name: .long, help: "dense, conv2d, lstm, mha, train-cnn, train-mlp, layers, llm, minilm, adapt, gpu-gemm or gpu-math.")
        var mode: String = "dense"
        @Option(name: .long, help: "Steps per timed round in the layer and training modes.")
        var iterations: Int = 10

        @Option(name: .long, parsing: .upToNextOption, help: "Square sizes n (batch n, n → n features).")
        var sizes: [Int] = [256, 512, 1024]
        @Option(name: .long, help: "Repetitions (the best is reported).") var repeats: Int = 5
        @Option(name: .long, help: "f32 or f64.") var dtype: String = "f32"
        @Option(name: .long, help: "llm mode: a GGUF model; times prompt processing and generation. minilm mode: a model directory.") var model: String?
        @Option(name: .long, help: "llm mode: prompt tokens.") var promptTokens: Int = 128
        @Option(name: .long, help: "llm mode: generated tokens.") var genTokens: Int = 64
        @Option(name: .long, help: "llm mode: blocks or dequantized.") var weights: String = "blocks"
        @Option(name: .long, help: "Layer, training and llm modes: cpu, cuda or cuda:N (training steps and decoding run device-resident when every layer can).")
        var device: String = "cpu"
        @Option(name: .long, help: "Layer and training modes: the batch size (default: each mode's own).") var batch: Int?
        @Option(name: .long, help: "adapt mode: seeds per task and mode.") var seeds: Int = 10
        @Option(name: .long, help: "minilm mode: a text file, one sentence per line.") var texts: String = "scripts/bench-sentences.txt"
        @Option(name: .customLong("out"), help: "adapt mode: write adapt.md and the SVG plots into this directory.") var outDir: String?
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            let ctx = try threadOption.context()
            guard repeats >= 1 else { throw LoomError(.invalidArgument, "--repeats", "must be at least 1") }
            for n in sizes where n < 1 || n > 8192 { throw LoomError(.invalidArgument, "--sizes", "sizes must be in 1...8192, got \(n)") }
            if mode == "llm" {
                guard let m = model else { throw LoomError(.invalidArgument, "--model", "llm mode needs a GGUF model") }
                let dev = try Device(parsing: device)
                try LLMBench.run(model: m, weights: weights, promptTokens: promptTokens, genTokens: genTokens, repeats: repeats,
                                 context: try dev.context(threads: ctx.threads), device: dev)
                return
            }
            if mode == "minilm" {
                guard let m = model else { throw LoomError(.invalidArgument, "--model", "minilm mode needs a model directory (all-MiniLM-L6-v2)") }
                let b = batch ?? 32
                guard b >= 1 && b <= 4096 else { throw LoomError(.invalidArgument, "--batch", "must be in 1...4096, got \(b)") }
                try EmbedBench.run(model: m, textsPath: texts, batch: b, repeats: repeats, context: ctx)
                return
            }
            if mode == "adapt" {
                try AdaptBench.run(seeds: seeds, out: outDir)
                return
            }
            if mode == "gpu-math" {
                let count = sizes == [256, 512, 1024] ? 1 << 24 : sizes[0] * 1024
                let results = try DetMathCheck.run(device: try CUDADevice(index: 0), host: ctx, count: count)
                for r in results {
                    out("gpu-math \(r.function) \(r.element) inputs=\(r.count) mismatches=\(r.mismatches)" + (r.firstMismatch.map { " first: \($0)" } ?? ""))
                }
                if results.contains(where: { $0.mismatches > 0 }) { throw LoomError(.device, "gpu-math", "the GPU's DetMath differs from the CPU's") }
                return
            }
            if mode == "gpu-gemm" {
                switch dtype {
                case "f32": try GPUGemmBench.run(Float.self, sizes: sizes, repeats: repeats, host: ctx)
                case "f64": try GPUGemmBench.run(Double.self, sizes: sizes, repeats: repeats, host: ctx)
                default: throw LoomError(.invalidArgument, "--dtype", "f32 or f64, got \(dtype)")
                }
                return
            }
            if mode != "dense" {
                guard iterations >= 1 else { throw LoomError(.invalidArgument, "--iterations", "must be at least 1") }
                if let b = batch, b < 1 || b > 65536 { throw LoomError(.invalidArgument, "--batch", "must be in 1...65536, got \(b)") }
                let modes = mode == "layers" ? LayerBench.modes : [mode]
                let dctx = try Device(parsing: device).context(threads: ctx.threads)
                for m in modes {
                    switch dtype {
                    case "f32": out(try LayerBench.run(Float.self, mode: m, repeats: repeats, iterations: iterations, batch: batch, context: dctx, threads: ctx.threads))
                    case "f64": out(try LayerBench.run(Double.self, mode: m, repeats: repeats, iterations: iterations, batch: batch, context: dctx, threads: ctx.threads))
                    default: throw LoomError(.invalidArgument, "--dtype", "f32 or f64, got \(dtype)")
                    }
                }
                return
            }
            switch dtype {
            case "f32": try bench(Float.self, ctx)
            case "f64": try bench(Double.self, ctx)
            default: throw LoomError(.invalidArgument, "--dtype", "f32 or f64, got \(dtype)")
            }
        }

        static func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
        }

        func bench<T: LoomFloat>(_: T.Type, _ ctx: CPUContext) throws {
            for n in sizes {
                let spec = NetworkSpec(name: "bench", dtype: T.dtype, seed: 1, inputShape: [n],
                                       layers: [.dense(units: n, activation: .linear, bias: true)])
                let net = try Network<T>(spec)
                let x: Tensor<T> = Init.uniform([n, n], bound: 1, seed: 2, name: "bench-input")
                let dy: Tensor<T> = Init.uniform([n, n], bound: 1, seed: 3, name: "bench-grad")
                let flops = 2.0 * Double(n) * Double(n) * Double(n)
                var bestF = Double.infinity, bestB = Double.infinity
                for _ in 0..<repeats {
                    let pass = net.trainingPass(context: ctx, step: 0)
                    let t0 = Bench.now()
                    _ = try net.forward(x, pass: pass)
                    let t1 = Bench.now()
                    _ = net.backward(dy, pass: pass)
                    let t2 = Bench.now()
                    bestF = Swift.min(bestF, t1 - t0)
                    bestB = Swift.min(bestB, t2 - t1)
                }
                // The bare product with the forward's layout (x · Wᵀ), to separate kernel from layer cost.
                var c = [T](repeating: 0, count: n * n)
                var bestG = Double.infinity
                for _ in 0..<repeats {
                    let t0 = Bench.now()
                    x.data.withUnsafeBufferPointer { xp in
                        net.params.values[0].data.withUnsafeBufferPointer { wp in
                            c.withUnsafeMutableBufferPointer { cp in
                                Gemm.run(ctx, GemmProblem(m: n, n: n, k: n, a: xp.baseAddress!, rsA: n, csA: 1,
                                                          b: wp.baseAddress!, rsB: 1, csB: n, c: cp.baseAddress!, ldc: n, accumulate: false))
                            }
                        }
                    }
                    bestG = Swift.min(bestG, Bench.now() - t0)
                }
                out("gemm_xwt \(T.dtype.name) n=\(n) threads=\(ctx.threads) seconds=\(bestG) gflops=\(flops / bestG / 1e9)")
                // Backward is two products (dW and dX): 2× the forward FLOPs.
                out("dense_forward \(T.dtype.name) n=\(n) threads=\(ctx.threads) seconds=\(bestF) gflops=\(flops / bestF / 1e9)")
                out("dense_backward \(T.dtype.name) n=\(n) threads=\(ctx.threads) seconds=\(bestB) gflops=\(2 * flops / bestB / 1e9)")
            }
        }
    }
}
