import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Quantize: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a model to another dtype (any of the 13) and compare it with the original in every dtype.",
            discussion: """
            The master weights are kept; the dtype decides how the network executes (docs/numerics.md, \
            "Execution in every dtype"). --report runs the model in every dtype on a data set and prints \
            accuracy, agreement with the original, output deviation and weight size. --data takes a JSON \
            file {"inputs": [...], "targets": [...]} or `digits` (the demo's held-out digits).
            """)

        @Argument(help: "Saved model or network IR (JSON).") var model: String
        @Option(name: .long, help: "Target dtype: f64 f32 f16 bf16 f4 i64 i32 i16 i8 u64 u32 u16 u8.") var to: String
        @Flag(name: .long, help: "Print the comparison table for every dtype.") var report = false
        @Option(name: .long, help: "Data set for --report: a JSON data file, or `digits`.") var data: String?
        @Option(name: .customLong("out"), help: "Write the converted model here.") var output: String?
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            guard let dtype = DType(name: to) else {
                throw LoomError(.invalidArgument, "--to", "must be one of \(DTypeTable.order.map { $0.name }.joined(separator: ", ")), got \"\(to)\"")
            }
            guard report || output != nil else {
                throw LoomError(.invalidArgument, "quantize", "nothing to do: give --report, --out FILE, or both")
            }
            if report && data == nil {
                throw LoomError(.invalidArgument, "--data", "--report needs a data set: a JSON data file or `digits`")
            }
            let ctx = try threadOption.context()
            let net = try AnyNetwork.load(path: model)
            let converted = try net.converted(to: dtype)
            if report, let d = data {
                let (x, labels) = try dataset(d, net)
                let rows = try DTypeComparison.run(net, inputs: x, labels: labels, dtypes: DTypeTable.order, context: ctx)
                out("\(model) (\(net.spec.dtype.name)) on \(x.batch) samples of \(d), executed in every dtype (* = --to):")
                for l in DTypeTable.render(rows, reference: net.spec.dtype, marked: dtype) { out("  " + l) }
            out("  " + DTypeTable.legend)
            }
            if let o = output {
                try converted.save(to: o, option: "--out")
                out("saved \(dtype.name) model: \(o)")
            }
        }

        /// Inputs and (when the targets are classes) labels.
        func dataset(_ d: String, _ net: AnyNetwork) throws -> (Tensor<Double>, [Int]?) {
            if d == "digits" {
                guard Tensor<Double>.count(of: net.inputShape) == 64, net.outputShape == [10] else {
                    throw LoomError(.shapeMismatch, "--data digits", "the digits map 64 pixels to 10 classes; the model maps \(Tensor<Double>.describe(net.inputShape)) to \(Tensor<Double>.describe(net.outputShape))")
                }
                let (flat, y) = Digits.load(as: Double.self)
                let (_, _, xTest, yTest) = Loom.Demo.split(flat.reshaped([flat.batch] + net.inputShape), y, seed: net.spec.seed)
                return (xTest, yTest.data.map { Int($0) })
            }
            let root = try ModelCodec.parse(try FileIO.readText(d), source: d)
            let (x, t) = try DataCodec.dataset(root, inputShape: net.inputShape, outputShape: net.outputShape, as: Double.self)
            let classes = net.outputShape.last ?? 1
            if classes > 1 && t.count == x.batch { return (x, t.data.map { Int($0) }) }
            if classes > 1 && t.count == x.batch * classes && net.outputShape.count == 1 { return (x, Loss.argmax(t)) }
            return (x, nil)
        }
    }
}
