import Loom
import LoomCore
import LoomNN

/// `loom bench --mode adapt`: the adaptation experiments (`Adaptation`), every mode on both tasks
/// over `seeds` seeds; prints one line per (task, mode) and, with `--out DIR`, writes DIR/adapt.md
/// (the report) and DIR/adapt-TASK.svg (accuracy over time, per mode, mean over seeds).
enum AdaptBench {
    static let colours = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]
    static let window = 50

    static func run(seeds: Int, out dir: String?) throws {
        guard seeds >= 1 && seeds <= 1000 else { throw LoomError(.invalidArgument, "--seeds", "must be in 1...1000, got \(seeds)") }
        var report = ["| task | mode | accuracy (mean ± sd over \(seeds) seeds) | availability at 100 samples/s | compute share of predictions | stall p99 / p50 | recovery after a switch (ticks, mean) | ticks/s |",
                      "|---|---|---|---|---|---|---|---|"]
        for kind in Adaptation.Task.Kind.allCases {
            let task = Adaptation.Task.standard(kind)
            var series = [(String, [Double], String)]()
            for (mi, mode) in Adaptation.Mode.allCases.enumerated() {
                var runs = [Adaptation.Run]()
                for s in 0..<seeds { runs.append(try Adaptation.run(task, mode: mode, seed: UInt64(1000 + s), clock: LoomCommand.Bench.now)) }
                let acc = runs.map(\.accuracy), mean = acc.reduce(0, +) / Double(seeds)
                let sd = (acc.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(Swift.max(seeds - 1, 1))).squareRoot()
                let avail = runs.map { $0.availability(streamSeconds: task.seconds) }.reduce(0, +) / Double(seeds)
                let share = runs.map(\.inferenceShare).reduce(0, +) / Double(seeds)
                let p99 = runs.map { $0.stall(quantile: 0.99) }.reduce(0, +) / Double(seeds)
                let p50 = runs.map { $0.stall(quantile: 0.5) }.reduce(0, +) / Double(seeds)
                var rec = [Double](), missed = 0
                for r in runs {
                    for (i, s) in task.switches.enumerated() {
                        let end = i + 1 < task.switches.count ? task.switches[i + 1] : task.ticks
                        if let t = AdaptationTracker.recoveryTicks(r.correct, change: s, end: end, window: window) { rec.append(Double(t)) } else { missed += 1 }
                    }
                }
                let recText = (rec.isEmpty ? "–" : fixed(rec.reduce(0, +) / Double(rec.count), 0)) + (missed > 0 ? " (\(missed) of \(missed + rec.count) never)" : "")
                let seconds = runs.map { $0.inferenceSeconds + $0.trainingSeconds }.reduce(0, +)
                let rate = Double(task.ticks * seeds) / seconds
                out("adapt task=\(kind.rawValue) mode=\(mode.rawValue) seeds=\(seeds) accuracy=\(fixed(mean * 100, 1)) sd=\(fixed(sd * 100, 1)) availability=\(fixed(avail * 100, 2)) inference_share=\(fixed(share * 100, 1)) stall_p99_us=\(fixed(p99 * 1e6, 0)) stall_p50_us=\(fixed(p50 * 1e6, 0)) recovery_ticks=\(recText.split(separator: " ").first ?? "–") ticks_per_s=\(fixed(rate, 0))")
                report.append("| \(kind.rawValue) | \(mode.rawValue) | \(fixed(mean * 100, 1))% ± \(fixed(sd * 100, 1)) | \(fixed(avail * 100, 2))% | \(fixed(share * 100, 1))% | \(fixed(p99 * 1e6, 0)) / \(fixed(p50 * 1e6, 0)) µs | \(recText) | \(fixed(rate, 0)) |")
                let windows = runs.map { $0.windows(window) }
                let meanWindows = (0..<windows[0].count).map { w in windows.map { $0[w] }.reduce(0, +) / Double(seeds) * 100 }
                series.append((mode.rawValue, meanWindows, colours[mi % colours.count]))
            }
            if let dir = dir {
                let title = "\(kind.rawValue): accuracy per \(window)-tick window (switches at \(task.switches.map(String.init).joined(separator: ", ")))"
                try FileIO.write("\(dir)/adapt-\(kind.rawValue).svg", text: SVGPlot.lines(title: title, xLabel: "window of \(window) ticks", series: series))
            }
        }
        if let dir = dir { try FileIO.write("\(dir)/adapt.md", text: report.joined(separator: "\n") + "\n") }
    }
}
