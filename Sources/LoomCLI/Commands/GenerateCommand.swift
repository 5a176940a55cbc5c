import ArgumentParser
import Loom
import LoomCore
import LoomGPU
import LoomNN
import LoomText

extension LoomCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate text with a Llama-family GGUF model (e.g. SmolLM2), greedy unless told otherwise.",
            discussion: "The text streams as it is generated and stops at the end-of-sequence token. Deterministic: the same settings and --seed give the same tokens for any --threads.")

        @Option(name: .long, help: "GGUF model file.") var model: String
        @Option(name: .long, help: "The prompt text.") var prompt: String
        @Option(name: .customLong("max-tokens"), help: "Tokens to generate at most.") var maxTokens: Int = 64
        @Option(name: .long, help: "0 is greedy; above 0 samples.") var temperature: Double = 0
        @Option(name: .long, help: "Sampling seed.") var seed: UInt64 = 0
        @Option(name: .customLong("top-k")) var topK: Int?
        @Option(name: .customLong("top-p")) var topP: Double?
        @Option(name: .customLong("min-p")) var minP: Double?
        @Option(name: .customLong("repetition-penalty")) var repetitionPenalty: Double?
        @Flag(name: .long, help: "Wrap the prompt as a user message in the model's chat template.") var chat = false
        @Flag(name: .long, help: "Print the generated token ids instead of text.") var ids = false
        @Option(name: .long, help: "Also print the K largest logits of the first generated position.") var logits: Int?
        @Option(name: .long, help: "blocks (quantized weights stay in the mapped file; the default) or dequantized (f32).")
        var weights: String = "blocks"
        @OptionGroup var compute: ComputeOptions

        func run() throws {
            let ctx = try compute.context()
            let mode: GGUFWeightMode
            switch weights {
            case "blocks": mode = .blocks
            case "dequantized": mode = .dequantized
            default: throw LoomError(.invalidArgument, "--weights", "blocks or dequantized, got \"\(weights)\"")
            }
            if let k = logits, k < 1 { throw LoomError(.invalidArgument, "--logits", "must be at least 1") }
            let settings = SamplerSettings(temperature: temperature, topK: topK, topP: topP, minP: minP,
                                           repetitionPenalty: repetitionPenalty, seed: seed)
            try settings.validate()
            let gen = try TextGenerator(gguf: model, weights: mode)
            if ctx is CUDAContext {
                if let why = gen.attachResidentGPU(ctx) {
                    note("device: matrix products on the GPU, other operations on the host (\(why.description))")
                } else {
                    note("device: \(gen.decoder!.name)")
                }
            }
            guard let tok = gen.tokenizer else { throw LoomError(.invalidModel, model, "the file has no tokenizer") }
            let promptIDs = try gen.promptIDs(prompt, chat: chat)
            var stream = TextStream(tokenizer: tok)
            let (generated, first) = try gen.generate(prompt: promptIDs, maxTokens: maxTokens, settings: settings, context: ctx) { id in
                if ids { return }
                let piece = stream.push(id)
                if !piece.isEmpty { writeRaw(piece) }
            }
            if ids { out(generated.map { String($0) }.joined(separator: " ")) } else { out("") }
            if let k = logits {
                let order = (0..<first.count).sorted { first[$0] != first[$1] ? first[$0] > first[$1] : $0 < $1 }
                for id in order.prefix(k) {
                    let piece = (try? tok.decode([id])) ?? "?"
                    out("\(id)\t\(first[id])\t\(JSONValue.string(piece).serialized(pretty: false))")
                }
            }
        }
    }

    struct Embed: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sentence embeddings with a BERT model directory (config.json, model.safetensors, tokenizer.json), e.g. all-MiniLM-L6-v2.",
            discussion: "Prints one JSON array per text (mean pooling over the tokens, L2-normalised).")

        @Option(name: .long, help: "Model directory.") var model: String
        @Argument(help: "Texts to embed.") var texts: [String]
        @OptionGroup var compute: ComputeOptions

        func run() throws {
            let ctx = try compute.context()
            guard !texts.isEmpty else { throw LoomError(.invalidArgument, "texts", "give at least one text") }
            let enc = try SentenceEncoder(directory: model)
            if ctx is CUDAContext {
                if let why = enc.attachResidentGPU(ctx) {
                    note("device: matrix products on the GPU, other operations on the host (\(why.description))")
                } else {
                    note("device: \(enc.resident!.name)")
                }
            }
            let tokPath = model + "/tokenizer.json"
            let tok = try Tokenizer(json: try FileIO.readText(tokPath), source: tokPath)
            let ids = try Embed.ids(texts, tokenizer: tok, encoder: enc, source: tokPath)
            for v in try enc.embed(ids: ids, context: ctx) {
                out("[" + v.map { JSONNumber(Double($0)).map { $0.text } ?? "null" }.joined(separator: ", ") + "]")
            }
        }

        /// The texts' token ids for the encoder: at most the model's positions (and at least 1: a
        /// file's truncation length may say 0); a longer text keeps its first limit − 1 tokens and
        /// the closing [SEP].
        static func ids(_ texts: [String], tokenizer tok: Tokenizer, encoder enc: SentenceEncoder, source: String) throws -> [[Int]] {
            let limit = Swift.max(1, Swift.min(tok.truncationMaxLength ?? enc.config.maxPositions, enc.config.maxPositions))
            return try texts.map { t -> [Int] in
                let row: [Int]
                do { row = try tok.encode(t, addSpecialTokens: true) } catch let error as LoomError {
                    throw LoomError(error.kind, source + ": " + error.path, error.message)  // name the file, as load errors do
                }
                return row.count > limit ? Array(row.prefix(limit - 1)) + [row.last!] : row
            }
        }
    }
}
