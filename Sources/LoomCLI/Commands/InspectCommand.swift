import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a model's layers, shapes and parameter counts (the blueprint).")

        @Argument(help: "Network IR or saved model (JSON).") var model: String
        @Flag(name: .long, help: "Print the blueprint as JSON.") var json = false
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            _ = try threadOption.context()  // accepted for uniformity; inspecting computes nothing
            switch try AnyNetwork.load(path: model) {
            case .f32(let n, _): out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            case .f64(let n, _): out(json ? Blueprint.json(n).serialized(pretty: true) : Blueprint.text(n))
            }
        }
    }
}
