import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a model's layers, shapes and parameter counts (the blueprint), or a safetensors/GGUF file's metadata and tensors.")

        @Argument(help: "Network IR or saved model (JSON), a safetensors file or a GGUF file.") var model: String
        @Flag(name: .long, help: "Print the blueprint as JSON.") var json = false
        @Option(name: .long, help: "Also write the blueprint as an SVG diagram to this file.") var svg: String?
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            _ = try threadOption.context()  // accepted for uniformity; inspecting computes nothing
            let bytes = try MappedFile.open(model)
            if bytes.count >= 4 && Array(bytes.bytes[0..<4]) == Array("GGUF".utf8) {
                let g = try GGUFFile.open(model)
                for l in GGUFFile.describe(g) { out(l) }
                if let c = try? LlamaConfig(gguf: g) {
                    for l in StructureInference.stated(c, source: "GGUF metadata").lines { out(l) }
                } else {
                    for l in StructureInference.infer(g.tensors.map { ($0.name, $0.shape) }).lines { out(l) }
                }
                return
            }
            // safetensors: an 8-byte header length, then the JSON header.
            if bytes.count > 9 && bytes.bytes[8] == UInt8(ascii: "{") && bytes.u64(0) <= UInt64(bytes.count - 8) {
                for l in try SafetensorsFile.describe(model) { out(l) }
                let file = try SafetensorsFile.open(model)
                let dir = model.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
                let configPath = (dir.isEmpty ? "." : dir) + "/config.json"
                let root = FileIO.exists(configPath) ? try? ModelCodec.parse(try FileIO.readText(configPath), source: configPath) : nil
                if let r = root, let c = try? LlamaConfig(huggingFace: r, path: configPath) {
                    for l in StructureInference.stated(c, source: configPath).lines { out(l) }
                } else if let r = root, let c = try? BertConfig(huggingFace: r, path: configPath) {
                    for l in StructureInference.stated(c, source: configPath).lines { out(l) }
                } else {
                    for l in StructureInference.infer(file.tensors.map { ($0.name, $0.shape) }).lines { out(l) }
                }
                return
            }
            switch try AnyNetwork.blueprint(json: try FileIO.readText(model), source: model) {
            case .f32(let n, _):
                if let path = svg { try FileIO.write(path, text: Blueprint.svg(n)) }
                out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            case .f64(let n, _):
                if let path = svg { try FileIO.write(path, text: Blueprint.svg(n)) }
                out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            }
        }
    }
}
