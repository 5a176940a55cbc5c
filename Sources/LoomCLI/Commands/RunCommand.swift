import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a model on inputs read as JSON (one sample as an array, or an array of samples).")

        @Argument(help: "A network IR or saved model (JSON).") var model: String
        @Option(name: .long, help: "JSON input file, or - for standard input.") var input: String
        @Flag(name: .long, help: "Print the IEEE bits of every output in hex.") var hex = false
        @OptionGroup var compute: ComputeOptions

        func run() throws {
            let ctx = try compute.context()
            let net = try AnyNetwork.load(path: model)
            let text = try FileIO.readText(input)
            let root = try ModelCodec.parse(text, source: input == "-" ? "stdin" : input)
            switch net {
            case .f32(let n, _): try Run.print(try n.forward(try DataCodec.batch(root, sampleShape: n.inputShape, path: "input", as: Float.self), residentOn: ctx), hex: hex)
            case .f64(let n, _): try Run.print(try n.forward(try DataCodec.batch(root, sampleShape: n.inputShape, path: "input", as: Double.self), residentOn: ctx), hex: hex)
            }
        }

        static func print<T: LoomFloat>(_ y: Tensor<T>, hex: Bool) throws {
            let per = y.count / Swift.max(y.batch, 1)
            var rows = [String]()
            for b in 0..<y.batch {
                let vals = y.data[(b * per)..<((b + 1) * per)].map { v -> String in
                    if hex { return "\"" + Hex.string(v.bits64, digits: T.dtype == .f32 ? 8 : 16) + "\"" }
                    if !v.isFinite { return "null" }
                    return JSONNumber(v.double).map { T.dtype == .f32 ? (JSONNumber(Float(v.double))?.text ?? $0.text) : $0.text } ?? "null"
                }
                rows.append("[" + vals.joined(separator: ", ") + "]")
            }
            out(y.batch == 1 ? rows[0] : "[\n  " + rows.joined(separator: ",\n  ") + "\n]")
        }
    }
}
