import LoomCore
import LoomGPU
import LoomNN
import LoomText

/// Autoregressive generation with a causal language model (a Llama GGUF): prefill the prompt
/// through a KV cache, then one token at a time (`Sampler`), stopping at the end-of-sequence id
/// or after `maxTokens`. Every step's logits equal a full-sequence forward's at that position.
public final class TextGenerator {
    public let network: Network<Float>
    public let config: LlamaConfig
    public let eosID: Int?
    /// The model's own tokenizer (from the GGUF vocabulary), when it has one.
    public let tokenizer: Tokenizer?
    /// How chat messages become a prompt (from the model's template).
    public let chat: ChatTemplate

    public init(network: Network<Float>, config: LlamaConfig, eosID: Int?, tokenizer: Tokenizer?, chat: ChatTemplate) {
        self.network = network; self.config = config; self.eosID = eosID; self.tokenizer = tokenizer; self.chat = chat
    }

    /// A GGUF model: weights dequantized (`.dequantized`) or kept as blocks in the mapped file.
    public convenience init(gguf path: String, weights: GGUFWeightMode) throws(LoomError) {
        let g = try GGUFFile.open(path)
        let (net, config) = try LlamaGGUF.network(g, weights: weights)
        let tok: Tokenizer? = g.metadata["tokenizer.ggml.model"] == nil ? nil : try Tokenizer(gguf: try GGUFVocabulary(gguf: g))
        self.init(network: net, config: config, eosID: g.metadata["tokenizer.ggml.eos_token_id"]?.intValue, tokenizer: tok,
                  chat: ChatTemplate(template: g.metadata["tokenizer.chat_template"]?.stringValue))
    }

    /// The prompt's ids with the model's tokenizer; `chat` wraps it as a user message in the model's
    /// chat template first.
    public func promptIDs(_ prompt: String, chat: Bool) throws(LoomError) -> [Int] {
        guard let tok = tokenizer else { throw LoomError(.invalidModel, "tokenizer", "the model file has no tokenizer") }
        return try tok.encode(chat ? self.chat.render([("user", prompt)]) : prompt, addSpecialTokens: true)
    }

    /// When set (`attachResidentGPU`), sessions decode on the GPU: weights and KV cache on the
    /// device, the same bits as the CPU. It holds one sequence at a time.
    public var decoder: ResidentInference<Float>? = nil

    func checkIDs(_ ids: [Int]) throws(LoomError) {
        for (i, id) in ids.enumerated() where id < 0 || id >= config.vocabSize {
            throw LoomError(.invalidInput, "token \(i)", "id \(id) is outside the vocabulary 0..<\(config.vocabSize)")
        }
    }

    /// The logits (vocab) of the last position after running `ids` through `cache`.
    public func step(_ ids: [Int], cache: KVCache<Float>, context: ComputeContext) throws(LoomError) -> [Float] {
        try checkIDs(ids)
        let y = try network.forward(Tensor(uncheckedShape: [1, ids.count], data: ids.map { Float($0) }), cache: cache, context: context)
        let v = config.vocabSize
        return Array(y.data[((ids.count - 1) * v)..<(ids.count * v)])
    }

    /// A new sequence of at most `capacity` positions: on the device decoder when one is attached
    /// (which then forgets its previous sequence), else with a host KV cache computing on `context`.
    public func session(capacity: Int, context: ComputeContext) throws(LoomError) -> DecodeSession {
        if let d = decoder {
            try d.reset(capacity: capacity)
            return DecodeSession(generator: self, cache: nil, context: context)
        }
        return DecodeSession(generator: self, cache: try KVCache<Float>(batch: 1, capacity: capacity), context: context)
    }

    /// Generates up to `maxTokens` ids after `prompt`; `onToken` sees each id as it is chosen
    /// (streaming). Returns the generated ids and the logits of the first generated position.
    public func generate(prompt: [Int], maxTokens: Int, settings: SamplerSettings, context: ComputeContext,
                         stopAtEOS: Bool = true,
                         onToken: (Int) -> Void = { _ in }) throws(LoomError) -> (ids: [Int], firstLogits: [Float]) {
        guard !prompt.isEmpty else { throw LoomError(.invalidInput, "prompt", "is empty") }
        guard maxTokens >= 0 else { throw LoomError(.invalidArgument, "max_tokens", "must be ≥ 0") }
        guard let total = Limits.sum(prompt.count, maxTokens), total <= config.contextLength else {
            throw LoomError(.invalidInput, "prompt", "\(prompt.count) prompt tokens + \(maxTokens) new ones exceed the context length \(config.contextLength)")
        }
        try settings.validate()
        let session = try self.session(capacity: prompt.count + Swift.max(maxTokens, 1), context: context)
        var logits = try session.step(prompt)
        let first = logits
        var history = prompt, out = [Int]()
        for i in 0..<maxTokens {
            let next = try Sampler.next(logits, history: history, settings: settings, step: UInt64(i))
            out.append(next)
            history.append(next)
            onToken(next)
            if (stopAtEOS && next == eosID) || i == maxTokens - 1 { break }
            logits = try session.step([next])
        }
        return (out, first)
    }
}

/// One sequence being decoded by a `TextGenerator`: each `step` appends positions and returns
/// the logits of the last one.
public final class DecodeSession {
    public let generator: TextGenerator
    let cache: KVCache<Float>?
    let context: ComputeContext

    init(generator: TextGenerator, cache: KVCache<Float>?, context: ComputeContext) {
        self.generator = generator; self.cache = cache; self.context = context
    }

    /// Runs `ids` (the next positions) and returns the vocabulary logits of the last one.
    public func step(_ ids: [Int]) throws(LoomError) -> [Float] {
        guard let cache else {
            try generator.checkIDs(ids)
            return try generator.decoder!.forward(Tensor(uncheckedShape: [1, ids.count], data: ids.map { Float($0) }), lastPosition: true).data
        }
        return try generator.step(ids, cache: cache, context: context)
    }
}

/// Turns generated ids into text as they arrive: decodes everything so far and yields what is new,
/// so a character split across tokens appears once it is whole.
public struct TextStream {
    public let tokenizer: Tokenizer
    public private(set) var ids: [Int] = []
    public private(set) var text = ""

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// The new text after `id` ("" while a character is still incomplete).
    public mutating func push(_ id: Int) -> String {
        ids.append(id)
        guard let s = try? tokenizer.decode(ids, skipSpecialTokens: true), s.count > text.count, s.hasPrefix(text) else { return "" }
        let new = String(s.dropFirst(text.count))
        text = s
        return new
    }
}
