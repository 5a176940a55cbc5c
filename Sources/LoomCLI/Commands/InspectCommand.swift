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
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            _ = try threadOption.context()  // accepted for uniformity; inspecting computes nothing
            let bytes = try MappedFile.open(model)
            if bytes.count >= 4 && Array(bytes.bytes[0..<4]) == Array("GGUF".utf8) {
                for l in GGUFFile.describe(try GGUFFile.open(model)) { out(l) }
                return
            }
            // safetensors: an 8-byte header length, then the JSON header.
            if bytes.count > 9 && bytes.bytes[8] == UInt8(ascii: "{") && bytes.u64(0) <= UInt64(bytes.count - 8) {
                for l in try SafetensorsFile.describe(model) { out(l) }
                return
            }
            switch try AnyNetwork.load(path: model) {
            case .f32(let n, _): out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            case .f64(let n, _): out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            }
        }
    }
}
