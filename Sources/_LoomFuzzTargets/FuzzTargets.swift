import Loom
import LoomC
import LoomCore
import LoomNN
import LoomText

/// The fuzz targets (issue 16, docs/reliability.md): each feeds hostile bytes to the real entry
/// points of one parser and what is built from it. A `LoomError` is a correct outcome and is
/// swallowed; only a trap, a crash, a hang or running out of memory is a bug.
///
/// Used by `fuzz/` (libFuzzer, `scripts/fuzz TARGET`) and by `HostileReplayTests`, which replays
/// every file under `Fixtures/hostile/<target>/`.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// UTF-8 text: the network IR (and saved models, data files).
    case ir
    /// safetensors bytes: header, description, a Loom model in the metadata.
    case safetensors
    /// GGUF bytes: header, metadata, tensor table, tokenizer, a Llama network, one generated token.
    case gguf
    /// tokenizer.json text: load, encode, decode.
    case tokenizer
    /// The C ABI's option JSON: trainer, step, tween and sampler settings.
    case options
}

public enum FuzzTargets {
    /// The memory budget every target runs under: anything larger must be refused by `Limits`.
    public static let memoryBudget = 256 << 20

    /// Runs `target` on `bytes`. Returns normally for any input that does not crash.
    /// The memory budget is `memoryBudget` while it runs (and restored after).
    public static func run(_ target: FuzzTarget, _ bytes: [UInt8]) {
        let budget = Limits.memoryBytes
        Limits.memoryBytes = memoryBudget
        defer { Limits.memoryBytes = budget }
        switch target {
        case .ir: ir(bytes)
        case .safetensors: safetensors(bytes)
        case .gguf: gguf(bytes)
        case .tokenizer: tokenizer(bytes)
        case .options: options(bytes)
        }
    }

    /// When set, every swallowed error is printed (`LOOM_FUZZ_VERBOSE=1` in loom-fuzz): for
    /// checking how deep a seed gets.
    nonisolated(unsafe) public static var verbose = false

    /// Runs `body`, swallowing the `LoomError` it may throw (an error is a correct answer).
    @inline(__always)
    static func attempt(_ body: () throws(LoomError) -> Void) {
        do { try body() } catch {
            if verbose { print("loom-fuzz: \(error.kind) at \(error.path): \(error.message)") }
        }
    }

    // MARK: - ir

    /// The most parameter bytes (with gradients) a network may have for the target to build it
    /// with weights and run it; larger ones are only built shape-only (their weights would take
    /// milliseconds to initialise). Networks over the memory budget still go through `load` so
    /// that its refusal is exercised.
    static let maxRunParameterBytes = 4 << 20
    /// The most activation bytes of a batch of 2 for the target to run forward and backward.
    static let maxRunActivationBytes = 4 << 20
    /// A bound on the work of one sample's pass — (parameters + activations) × (input elements + 1),
    /// above which the target does not run the network: a legitimately large computation (an LSTM
    /// over 4 million steps) is slow without being a bug, and would read as a hang.
    static let maxRunWork = 1 << 26

    static func ir(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var built: AnyNetwork? = nil
        attempt { () throws(LoomError) in
            let blueprint = try AnyNetwork.blueprint(json: text, source: "fuzz.json")
            let paramBytes: Int? = switch blueprint {
            case .f32(let n, _): n.parameterBytes
            case .f64(let n, _): n.parameterBytes
            }
            if let p = paramBytes, p > maxRunParameterBytes && p <= Limits.memoryBytes { return }
            let net = try AnyNetwork.load(json: text, source: "fuzz.json")
            built = net
            switch net {
            case .f32(let n, _): try exercise(n)
            case .f64(let n, _): try exercise(n)
            }
            // The round trip through the saved form.
            _ = try AnyNetwork.load(json: net.saved(pretty: false), source: "saved.json")
        }
        // The same JSON as a data file for the network's shapes.
        attempt { () throws(LoomError) in
            let root = try ModelCodec.parse(text, source: "fuzz.json")
            guard root["inputs"] != nil else { return }
            let (input, output) = built.map { ($0.inputShape, $0.outputShape) } ?? ([2], [2])
            if case .f64? = built {
                _ = try DataCodec.dataset(root, inputShape: input, outputShape: output, as: Double.self)
            } else {
                _ = try DataCodec.dataset(root, inputShape: input, outputShape: output, as: Float.self)
            }
        }
    }

    /// One forward of a batch of 2 zero samples, and a training pass with its backward.
    static func exercise<T: LoomFloat>(_ n: Network<T>) throws(LoomError) {
        guard let a = n.activationBytes(batch: 2), a <= maxRunActivationBytes,
              let input = Limits.product(n.inputShape),
              let work = Limits.product(n.params.scalarCount + a / MemoryLayout<T>.stride, input + 1), work <= maxRunWork
        else { return }
        let x = Tensor<T>(zeros: [2] + n.inputShape)
        // Inference on the native kernels, training on the portable reference ones.
        _ = try n.forward(x, context: CPUContext(threads: 1))
        let pass = n.trainingPass(context: SerialContext(), step: 0)
        let y = try n.forward(x, pass: pass)
        _ = n.backward(Tensor(uncheckedShape: y.shape, data: [T](repeating: T(0.5), count: y.count)), pass: pass)
    }

    // MARK: - safetensors

    static func safetensors(_ bytes: [UInt8]) {
        attempt { () throws(LoomError) in
            let file = try Safetensors(bytes: bytes, source: "fuzz.safetensors")
            _ = file.descriptionLines(maxValueLength: 40)
            for i in file.tensors.indices where file.tensors[i].count <= 4096 {
                _ = file.tensor(at: i).doubles()
            }
            let net = try AnyNetwork.load(safetensors: file)
            switch net {
            case .f32(let n, _): try exercise(n)
            case .f64(let n, _): try exercise(n)
            }
        }
    }

    // MARK: - gguf

    static func gguf(_ bytes: [UInt8]) {
        attempt { () throws(LoomError) in
            let g = try GGUF(buffer: ByteBuffer(copying: bytes), name: "fuzz.gguf")
            _ = GGUFFile.describe(g, arrayPreview: 4, stringPreview: 40)
            for t in g.tensors where t.byteCount <= 1 << 16 {
                attempt { () throws(LoomError) in _ = try g.dequantize(t) }
            }
            var tok: Tokenizer? = nil
            if g.metadata["tokenizer.ggml.model"] != nil {
                attempt { () throws(LoomError) in
                    let t = try Tokenizer(gguf: try GGUFVocabulary(gguf: g))
                    tok = t
                    try encodeDecode(t, ["Hello, world!", " über 123"])
                }
            }
            // Weights as blocks in the file (integer dot products) or dequantized: by the input's length.
            let (net, config) = try LlamaGGUF.network(g, weights: bytes.count % 2 == 0 ? .blocks : .dequantized)
            let generator = TextGenerator(network: net, config: config, eosID: g.metadata["tokenizer.ggml.eos_token_id"]?.intValue,
                                          tokenizer: tok, chat: ChatTemplate(template: g.metadata["tokenizer.chat_template"]?.stringValue))
            let prompt = [config.vocabSize > 1 ? 1 : 0]
            _ = try generator.generate(prompt: prompt, maxTokens: 1, settings: .greedy, context: CPUContext(threads: 1))
        }
    }

    // MARK: - tokenizer

    static let tokenizerTexts = ["Hello, world!", "  spaces  ", "über 123 😀"]

    static func tokenizer(_ bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        let tail = String(decoding: bytes.suffix(64), as: UTF8.self)
        // Through the C ABI (ids as Int32 there).
        var handle: OpaquePointer? = nil
        if ok(loom_tokenizer_from_json(text, &handle)) {
            var ids = [Int32](repeating: 0, count: 512), count = 0
            var buf = [CChar](repeating: 0, count: 1024), need = 0
            for s in [tokenizerTexts[0], tail] {
                let utf8 = Array(s.utf8)
                if ok(loom_tokenizer_encode(handle, utf8.map { CChar(bitPattern: $0) }, utf8.count, 1, &ids, ids.count, &count)),
                   count <= ids.count {
                    _ = ok(loom_tokenizer_decode(handle, ids, count, 0, &buf, buf.count, &need))
                }
            }
            var size = 0
            _ = loom_tokenizer_vocab_size(handle, &size)
        }
        loom_tokenizer_free(handle)
        // The Swift API.
        attempt { () throws(LoomError) in
            let t = try Tokenizer(json: String(decoding: bytes, as: UTF8.self), source: "fuzz.tokenizer.json")
            try encodeDecode(t, tokenizerTexts + [tail])
            attempt { () throws(LoomError) in _ = try t.encode("Hello", pair: "world", addSpecialTokens: true) }
            // Ids no token may have: errors, never traps.
            let v = t.vocabularySize
            for id in [v - 1, v, -1, Int(Int32.max), Int.max] {
                attempt { () throws(LoomError) in _ = try t.decode([0, id], skipSpecialTokens: true) }
            }
        }
    }

    /// Encodes each text with and without special tokens and decodes the ids (both ways).
    static func encodeDecode(_ t: Tokenizer, _ texts: [String]) throws(LoomError) {
        for s in texts {
            for special in [true, false] {
                let ids = try t.encode(s, addSpecialTokens: special)
                _ = try t.decode(ids, skipSpecialTokens: false)
                _ = try t.decode(ids, skipSpecialTokens: true)
            }
        }
    }

    // MARK: - options

    /// The network the option JSON is applied to: 2 → 6 (tanh) → 5 (relu) → 2, as in tests/c/test_loom.c.
    static let optionsNetwork = """
        {"format": "loom", "version": 1, "seed": 11, "input": {"shape": [2]}, "layers": [{"type": "dense", "units": 6, \
        "activation": "tanh"}, {"type": "dense", "units": 5, "activation": "relu"}, {"type": "dense", "units": 2}]}
        """

    static func options(_ bytes: [UInt8]) {
        let text = String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
        let x: [Float] = [0.3, -0.7, 1.1, 0.25], targets: [Float] = [1, 0, 0, 1]
        withNetwork { net in
            var tr: OpaquePointer? = nil
            if ok(loom_trainer_new_with(net, text, &tr)) {
                var loss: Float = 0
                _ = ok(loom_trainer_step(tr, x, 2, targets, 4, &loss))
                _ = ok(loom_trainer_step(tr, x, 2, targets, 4, &loss))
                var steps = 0, lr = 0.0
                _ = loom_trainer_progress(tr, &steps, &lr)
            }
            loom_trainer_free(tr)
        }
        withNetwork { net in
            var st: OpaquePointer? = nil
            if ok(loom_step_new(net, text, &st)) {
                var latency = 0
                _ = loom_step_latency(st, &latency)
                var y = [Float](repeating: 0, count: 2)
                var done: Int32 = 0, tag: UInt64 = 0, loss = 0.0
                for i in 0..<(Swift.min(latency, 8) + 2) {
                    let feed = i < 2
                    _ = x.withUnsafeBufferPointer { xp in
                        targets.withUnsafeBufferPointer { tp in
                            ok(loom_step_tick(st, feed ? xp.baseAddress! + 2 * i : nil, feed ? tp.baseAddress! + 2 * i : nil, feed ? 2 : 0,
                                           &done, &tag, &y, 2, &loss))
                        }
                    }
                }
                var buf = [CChar](repeating: 0, count: 4096), need = 0
                _ = loom_step_report_json(st, &buf, buf.count, &need)
            }
            loom_step_free(st)
        }
        withNetwork { net in
            var tw: OpaquePointer? = nil
            if ok(loom_tween_new(net, text, &tw)) {
                var loss = 0.0
                _ = ok(loom_tween_step(tw, x, 2, targets, 4, &loss))
                _ = ok(loom_tween_step(tw, x, 2, targets, 4, &loss))
                var buf = [CChar](repeating: 0, count: 4096), need = 0
                _ = loom_tween_report_json(tw, &buf, buf.count, &need)
            }
            loom_tween_free(tw)
        }
        // The sampler settings of loom_generator_generate, on fixed logits.
        attempt { () throws(LoomError) in
            let settings = try SamplerSettings(json: text, source: "sampler_json")
            let logits: [Float] = [0.5, -1, 2, 2, 0.25, -3, 1, 0]
            for step in 0..<2 {
                _ = try Sampler.next(logits, history: [2, 3, 2], settings: settings, step: UInt64(step))
            }
        }
    }

    /// Whether a C ABI call succeeded (its error printed when `verbose`).
    static func ok(_ status: Int32) -> Bool {
        if status != 0 && verbose { print("loom-fuzz: status \(status): \(String(cString: loom_last_error()))") }
        return status == 0
    }

    /// Runs `body` on a fresh copy of `optionsNetwork` (so no state survives between inputs), then frees it.
    static func withNetwork(_ body: (OpaquePointer?) -> Void) {
        var net: OpaquePointer? = nil
        guard loom_network_from_json(optionsNetwork, &net) == 0 else {
            fatalError("the fixed network of the options target does not build: \(String(cString: loom_last_error()))")
        }
        body(net)
        loom_network_free(net)
    }
}
