import ArgumentParser
import Loom
import LoomCore
import LoomNN

extension LoomCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a config or saved bundle of the original Go Loom into a Loom model (see docs/ir.md, \"Importing the original Loom's files\").")

        @Argument(help: "The original Loom's network config or saved modelhost/bundle (JSON).") var legacy: String
        @Option(name: .long, help: "Write the converted model (IR and weights) here.") var output: String
        @Flag(name: .long, help: "Reproduce the original's quirks: relu/linear/none = ReLU ×1.1, implicit residuals, residual = activation.")
        var legacySemantics = false
        @Option(name: .long, help: "Which model of a bundle, counted from 0 in file order.") var model: Int = 0
        @OptionGroup var threadOption: ThreadOption

        func run() throws {
            _ = try threadOption.context()  // accepted for uniformity; importing computes nothing
            let root = try ModelCodec.parse(try FileIO.readText(legacy), source: legacy)
            let imp = try LegacyImporter.convert(root, options: LegacyOptions(legacySemantics: legacySemantics), modelIndex: model)
            for n in imp.notes { out("note: \(n)") }
            let net = try LegacyImporter.network(imp)
            try net.save(to: output, option: "--output")
            out("imported \(imp.spec.layers.count) layers, \(net.params.scalarCount) parameters (\(imp.weights.isEmpty ? "initialised from seed \(imp.spec.seed)" : "weights from the bundle")): \(output)")
        }
    }
}
