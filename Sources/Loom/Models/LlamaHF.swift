import LoomCore
import LoomNN

extension TextGenerator {
    /// A Hugging Face Llama directory (`config.json` + `model.safetensors`, mapped): half-split
    /// RoPE, names `model.layers.N.…`. No tokenizer is attached (give ids, or load
    /// `tokenizer.json` with LoomText).
    public convenience init(huggingFace directory: String) throws(LoomError) {
        let configPath = directory + "/config.json"
        let root = try ModelCodec.parse(try FileIO.readText(configPath), source: configPath)
        let config = try LlamaConfig(huggingFace: root, path: configPath)
        let weightsPath = directory + "/model.safetensors"
        let file = try SafetensorsFile.open(weightsPath)
        try config.crossCheck(tensorNames: file.tensors.map { $0.name }, shape: { file.info($0)?.shape }, gguf: false, source: weightsPath)
        let net = try Network<Float>(config.spec(name: "llama", positions: 1), materialize: false)
        try CheckpointLoader.fill(net, names: config.huggingFaceNames, source: weightsPath) { name throws(LoomError) in
            guard let t = file.tensor(name) else { return nil }
            return (t.info.shape, t.floats())
        }
        self.init(network: net, config: config, eosID: root["eos_token_id"]?.numberValue?.double.map { Int($0) },
                  tokenizer: nil, chat: ChatTemplate(format: .chatML))
    }
}
