import LoomNN
#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on standard error.
struct ProgressBar {
    static let enabled = isatty(2) != 0

    static func render(_ p: BatchProgress) {
        if !enabled { return }
        let width = 28
        let done = (p.batch + 1) * width / Swift.max(p.batches, 1)
        let bar = String(repeating: "█", count: done) + String(repeating: "·", count: width - done)
        let loss = (p.loss * 10000).rounded() / 10000
        var s = "\repoch \(p.epoch + 1)/\(p.epochs) [\(bar)] \(p.batch + 1)/\(p.batches) loss \(loss)   "
        s.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }

    static func clear() {
        if !enabled { return }
        var s = "\r" + String(repeating: " ", count: 78) + "\r"
        s.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
    }
}

func pct(_ x: Double?) -> String {
    guard let x = x else { return "–" }
    return String((x * 1000).rounded() / 10) + "%"
}

func fmt(_ x: Double?, _ digits: Double = 10000) -> String {
    guard let x = x else { return "–" }
    return String((x * digits).rounded() / digits)
}

/// `x` with `digits` decimals (0: an integer, no ".0").
func fixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    return digits == 0 ? String(Int(x.rounded())) : fmt(x, scale)
}

func epochLine(_ r: EpochReport) -> String {
    var s = "epoch \(r.epoch + 1): loss \(fmt(r.trainLoss))"
    if let a = r.trainAccuracy { s += " acc \(pct(a))" }
    if let v = r.validationLoss { s += " | val loss \(fmt(v))" }
    if let a = r.validationAccuracy { s += " val acc \(pct(a))" }
    s += " | lr \(fmt(r.learningRate, 1e6))"
    return s
}
