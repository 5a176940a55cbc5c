import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Demo: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Train a classifier on the 8×8 digits set, save it, reload it, and show the outputs are bit-identical.",
            discussion: "`loom demo` trains a dense network (64-64-10); `loom demo cnn` a small convolutional one (conv2d 5×5 → conv2d 3×3 → max_pool2d → dense).")

        @Argument(help: "Which demo network: mlp (the default) or cnn.")
        var network: Loom.Demo.Kind = .mlp

        @OptionGroup var compute: ComputeOptions
        @Option(name: .long, help: "Where to save the trained model (default loom-demo-digits.json, or loom-demo-cnn.json for cnn).")
        var save: String?
        @Option(name: .long, help: "Train your own network instead (IR with a training block; 64 pixels, e.g. [64] or [1, 8, 8], → [10]).")
        var config: String?

        func run() throws {
            let ctx = try compute.context()
            let json = try config.map { try FileIO.readText($0) } ?? network.networkJSON
            let save = self.save ?? network.defaultSavePath
            let report = try Loom.Demo.run(context: ctx, savePath: save, networkJSON: json, log: { out($0) },
                                           progress: { ProgressBar.render($0) },
                                           epochEnd: { ProgressBar.clear(); out(epochLine($0)) })
            out("")
            out("test accuracy: \(pct(report.testAccuracy)) on \(report.testSamples) held-out digits")
            out("saved model: \(save)")
            out("outputs before saving:  \(report.outputHash)")
            out("outputs after reload:   \(report.reloadedHash)")
            if report.outputHash == report.reloadedHash {
                out("reloaded outputs are bit-identical ✓")
            } else {
                throw LoomError(.invalidModel, save, "reloaded outputs differ from the trained network's")
            }
            out("")
            out("the same weights executed in every dtype (docs/numerics.md), on the \(report.testSamples) test digits:")
            for l in DTypeTable.render(report.dtypes, reference: .f32) { out("  " + l) }
            out("  " + DTypeTable.legend)
        }
    }
}

extension Loom.Demo.Kind: ExpressibleByArgument {}
