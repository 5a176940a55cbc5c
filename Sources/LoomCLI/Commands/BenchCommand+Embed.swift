import Loom
import LoomCore
import LoomText

/// `loom bench --mode minilm`: sentence embeddings per second with a BERT model directory
/// (all-MiniLM-L6-v2): the texts of a file (one per line, default scripts/bench-sentences.txt)
/// tokenized and embedded in batches of --batch, best of --repeats after a warm-up. The timing
/// covers what `loom embed` does per call (tokenization, the encoder, pooling), not the loading.
enum EmbedBench {
    static func run(model: String, textsPath: String, batch: Int, repeats: Int, context: ComputeContext) throws {
        let texts = try FileIO.readText(textsPath).split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        guard !texts.isEmpty else { throw LoomError(.invalidInput, textsPath, "holds no text") }
        let enc = try SentenceEncoder(directory: model)
        let tokPath = model + "/tokenizer.json"
        let tok = try Tokenizer(json: try FileIO.readText(tokPath), source: tokPath)
        func once() throws -> [[Float]] {
            var all: [[Float]] = []
            var i = 0
            while i < texts.count {
                let chunk = Array(texts[i..<Swift.min(texts.count, i + batch)])
                all += try enc.embed(ids: try LoomCommand.Embed.ids(chunk, tokenizer: tok, encoder: enc, source: tokPath), context: context)
                i += batch
            }
            return all
        }
        var embeddings = try once()  // warm-up
        var best = Double.infinity
        for _ in 0..<repeats {
            let t0 = LoomCommand.Bench.now()
            embeddings = try once()
            best = Swift.min(best, LoomCommand.Bench.now() - t0)
        }
        var h = BitHash()
        for e in embeddings { for v in e { h.addUInt32(v.bitPattern) } }
        out("minilm threads=\(context.threads) texts=\(texts.count) batch=\(batch) sentences_s=\(Double(texts.count) / best) embeddings_hash=\(h.hex)")
    }
}
