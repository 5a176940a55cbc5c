import LoomCore
import LoomGPU
import LoomNN

/// A sentence-embedding model (all-MiniLM, any BERT checkpoint in the sentence-transformers
/// layout): `config.json` + `model.safetensors` (mapped) from a directory; `embed` runs the BERT
/// encoder on padded batches and pools (`SentenceEmbedding`).
public final class SentenceEncoder {
    public let config: BertConfig
    public let network: Network<Float>
    public let directory: String
    /// When set (`attachResidentGPU`), `embed` runs the encoder on the GPU: weights resident on the
    /// device, the same bits as the CPU.
    public var resident: ResidentInference<Float>? = nil

    public init(directory: String) throws(LoomError) {
        self.directory = directory
        let configPath = directory + "/config.json"
        config = try BertConfig(huggingFace: try ModelCodec.parse(try FileIO.readText(configPath), source: configPath), path: configPath)
        let weightsPath = directory + "/model.safetensors"
        let file = try SafetensorsFile.open(weightsPath)
        try config.crossCheck(tensorNames: file.tensors.map { $0.name }, shape: { file.info($0)?.shape }, source: weightsPath)
        network = try Network<Float>(config.spec(positions: config.maxPositions), materialize: false)
        try CheckpointLoader.fill(network, names: config.huggingFaceNames, source: weightsPath, prefixes: ["", "bert."]) { name throws(LoomError) in
            guard let t = file.tensor(name) else { return nil }
            return (t.info.shape, t.floats())
        }
    }

    /// Embeddings of token-id sequences (each 1…max_position_embeddings ids), one batch padded to
    /// the longest; every row's result is independent of the others (padding mask).
    public func embed(ids: [[Int]], context: ComputeContext) throws(LoomError) -> [[Float]] {
        guard !ids.isEmpty else { return [] }
        let s = ids.map { $0.count }.max()!
        for (i, row) in ids.enumerated() {
            guard !row.isEmpty, row.count <= config.maxPositions else {
                throw LoomError(.invalidInput, "text \(i)", "has \(row.count) tokens; the model takes 1…\(config.maxPositions)")
            }
        }
        var x = [Float](repeating: 0, count: ids.count * s)
        for (b, row) in ids.enumerated() { for (t, id) in row.enumerated() { x[b * s + t] = Float(id) } }
        let input = Tensor(uncheckedShape: [ids.count, s], data: x), valid = ids.map { $0.count }
        let y: Tensor<Float>
        if let r = resident { y = try r.forward(input, validLengths: valid) } else { y = try network.forward(input, validLengths: valid, context: context) }
        return SentenceEmbedding.pool(y, validLengths: ids.map { $0.count })
    }
}
