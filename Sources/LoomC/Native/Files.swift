import LoomCore
import LoomNN
import LoomText
import Loom

// The native-only part of the C ABI: files (atomic writes), and text generation with a GGUF model
// (the model is a mapped file). Not in the wasm module, which has no file system.

@_cdecl("loom_network_load")
public func loom_network_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        out.pointee = Handles.networks.add(NetworkHandle(try AnyNetwork.load(path: try string(path, "path"))))
        return 0
    }
}

@_cdecl("loom_network_save")
public func loom_network_save(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(LoomError) in
        try Handles.networks.get(net).network.save(to: try string(path, "path"))
        return 0
    }
}

@_cdecl("loom_network_save_safetensors")
public func loom_network_save_safetensors(_ net: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ dtype: UnsafePointer<CChar>?) -> Int32 {
    guarded { () throws(LoomError) in
        let h = try Handles.networks.get(net)
        try h.network.saveSafetensors(to: try string(path, "path"), options: try safetensorsOptions(dtype))
        return 0
    }
}

/// A tokenizer from a file: a Hugging Face tokenizer.json, or the vocabulary of a GGUF model.
@_cdecl("loom_tokenizer_load")
public func loom_tokenizer_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        let p = try string(path, "path")
        let t = p.hasSuffix(".gguf") ? try Tokenizer(gguf: try GGUFVocabulary(gguf: try GGUFFile.open(p)))
                                     : try Tokenizer(json: try FileIO.readText(p), source: p)
        out.pointee = Handles.tokenizers.add(TokenizerHandle(t))
        return 0
    }
}

// MARK: - Generators

final class GeneratorHandle {
    let generator: TextGenerator
    var context: HostContext
    var lastText = ""
    init(_ g: TextGenerator) { generator = g; context = hostContext(threads: 1) }
}

nonisolated(unsafe) var generators = HandleTable<GeneratorHandle>("generator")

/// A causal language model from a GGUF file (Llama family, e.g. SmolLM2). blocks != 0 keeps the
/// quantized blocks in the mapped file (integer dot products, like llama.cpp); 0 dequantizes
/// every tensor to f32.
@_cdecl("loom_generator_load")
public func loom_generator_load(_ path: UnsafePointer<CChar>?, _ blocks: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        let g = try TextGenerator(gguf: try string(path, "path"), weights: blocks != 0 ? .blocks : .dequantized)
        guard g.tokenizer != nil else { throw LoomError(.invalidModel, "tokenizer", "the model file has no tokenizer") }
        out.pointee = generators.add(GeneratorHandle(g))
        return 0
    }
}

@_cdecl("loom_generator_set_threads")
public func loom_generator_set_threads(_ gen: OpaquePointer?, _ threads: Int32) -> Int32 {
    guarded { () throws(LoomError) in
        let g = try generators.get(gen)
        guard threads >= 1 && threads <= 1024 else { throw LoomError(.invalidArgument, "threads", "must be 1…1024, got \(threads)") }
        g.context = hostContext(threads: Int(threads))
        return 0
    }
}

/// Called with each piece of text as it is generated (UTF-8, NUL-terminated, whole characters).
public typealias LoomTextCallback = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void

/// Generates up to max_tokens after the prompt and puts the generated text in buf (UTF-8 + NUL).
/// chat != 0 wraps the prompt as a user message in the model's chat template. sampler_json: NULL
/// for greedy, else {"temperature", "top_k", "top_p", "min_p", "repetition_penalty", "seed"}.
/// on_text (may be NULL) streams the text as it is generated. When buf is too small the text is
/// kept: loom_generator_last_text returns it without generating again.
@_cdecl("loom_generator_generate")
public func loom_generator_generate(_ gen: OpaquePointer?, _ prompt: UnsafePointer<CChar>?, _ chat: Int32, _ maxTokens: Int,
                                    _ samplerJSON: UnsafePointer<CChar>?, _ onText: LoomTextCallback?, _ user: UnsafeMutableRawPointer?,
                                    _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let g = try generators.get(gen)
        let settings = samplerJSON == nil ? SamplerSettings.greedy : try SamplerSettings(json: try string(samplerJSON, "sampler_json"))
        let ids = try g.generator.promptIDs(try string(prompt, "prompt"), chat: chat != 0)
        var stream = TextStream(tokenizer: g.generator.tokenizer!)
        _ = try g.generator.generate(prompt: ids, maxTokens: maxTokens, settings: settings, context: g.context) { id in
            let piece = stream.push(id)
            if let onText, !piece.isEmpty { piece.withCString { onText(user, $0) } }
        }
        g.lastText = stream.text
        return copyOut(g.lastText, buf, capacity, needed)
    }
}

/// The text of the generator's last loom_generator_generate.
@_cdecl("loom_generator_last_text")
public func loom_generator_last_text(_ gen: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                     _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in copyOut(try generators.get(gen).lastText, buf, capacity, needed) }
}

/// A tokenizer handle with the generator's vocabulary (free it with loom_tokenizer_free).
@_cdecl("loom_generator_tokenizer")
public func loom_generator_tokenizer(_ gen: OpaquePointer?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let g = try generators.get(gen)
        try nonNull(out, "out").pointee = Handles.tokenizers.add(TokenizerHandle(g.generator.tokenizer!))
        return 0
    }
}

@_cdecl("loom_generator_free")
public func loom_generator_free(_ gen: OpaquePointer?) { generators.remove(gen, "loom_generator_free") }
