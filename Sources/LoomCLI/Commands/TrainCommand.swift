import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a network (IR with a training block, or a saved model) on a JSON data file {\"inputs\": [...], \"targets\": [...]}.")

        @Argument(help: "Network IR or saved model (JSON).") var config: String
        @Option(name: .long, help: "Data file: {\"inputs\": [[...], ...], \"targets\": [...]}.") var data: String
        @Option(name: .long, help: "Save the trained model here.") var save: String?
        @Option(name: .long, help: "Write an SVG loss curve here.") var plot: String?
        @Option(name: .long, help: "Override the number of epochs.") var epochs: Int?
        @OptionGroup var compute: ComputeOptions

        func run() throws {
            let ctx = try compute.context()
            if let s = save { _ = try ModelFileFormat(path: s, option: "--save") }  // refused before training, not after
            let net = try AnyNetwork.load(path: config)
            let root = try ModelCodec.parse(try FileIO.readText(data), source: data)
            switch net {
            case .f32(let n, let o): try train(n, o, root, ctx)
            case .f64(let n, let o): try train(n, o, root, ctx)
            }
        }

        func train<T: LoomFloat>(_ net: Network<T>, _ opt: Optimizer<T>?, _ root: JSONValue, _ ctx: ComputeContext) throws {
            guard var spec = net.spec.training else {
                throw LoomError(.invalidIR, "training", "the network has no training block (loss, optimizer, epochs, batch_size); see docs/ir.md")
            }
            if let e = epochs {
                guard e >= 1 else { throw LoomError(.invalidArgument, "--epochs", "must be at least 1") }
                spec.epochs = e
            }
            let (x, t) = try DataCodec.dataset(root, inputShape: net.inputShape, outputShape: net.outputShape, as: T.self)
            out("training \(net.spec.name.isEmpty ? config : net.spec.name): \(x.batch) samples, \(net.params.scalarCount) parameters, \(spec.optimizer.typeName), \(ctx.threads) thread(s)")
            let trainer = Trainer(network: net, spec: spec, context: ctx, optimizer: opt)
            if compute.device != "cpu" {
                if let why = trainer.attachResidentGPU() {
                    out("device: matrix products on the GPU, other operations on the host (\(why.description))")
                } else {
                    out("device: \(trainer.accelerator!.name)")
                }
            }
            let history = try trainer.fit(inputs: x, targets: t, progress: { ProgressBar.render($0) },
                                          epochEnd: { ProgressBar.clear(); out(epochLine($0)) })
            if history.stoppedEarly { out("early stopping after epoch \(history.epochs.count) (best epoch \(history.bestEpoch + 1))") }
            out("weights hash: \(net.params.bitHash.hex)")
            if let s = save {
                try net.save(to: s, optimizer: trainer.optimizer, option: "--save")
                out("saved: \(s)")
            }
            if let p = plot {
                var series: [(String, [Double], String)] = [("training loss", history.epochs.map { $0.trainLoss }, "#1f77b4")]
                let val = history.epochs.compactMap { $0.validationLoss }
                if !val.isEmpty { series.append(("validation loss", val, "#d62728")) }
                try FileIO.write(p, text: SVGPlot.lines(title: "loss per epoch", xLabel: "epoch", series: series))
                out("plot: \(p)")
            }
        }
    }
}
