import LoomCore

/// How far predictions are from what was expected, bucketed (the original's `EvaluatePrediction`
/// and `DeviationMetrics`, with its buckets): each value's deviation is |a − e| / |e| · 100 (or
/// |a − e| · 100 when |e| < 10⁻¹⁰), and a non-finite prediction counts as 100%.
public struct DeviationReport: Sendable {
    public static let buckets = ["0-10%", "10-20%", "20-30%", "30-40%", "40-50%", "50-100%", "100%+"]
    /// Values per bucket, and which (value indices) fell in each.
    public var counts: [Int]
    public var members: [[Int]]
    public var deviations: [Double]
    /// Mean deviation (binary64, index order).
    public var meanDeviation: Double
    /// 100 − mean deviation, at least 0: 100 when every prediction is exact.
    public var score: Double { Swift.max(0, 100 - meanDeviation) }

    /// The `limit` largest deviations (ties: lower index first).
    public func worst(_ limit: Int = 5) -> [(index: Int, deviation: Double)] {
        deviations.indices.sorted { deviations[$0] != deviations[$1] ? deviations[$0] > deviations[$1] : $0 < $1 }
            .prefix(limit).map { ($0, deviations[$0]) }
    }

    public static func deviation(expected e: Double, actual a: Double) -> Double {
        guard a.isFinite else { return 100 }
        return abs(e) < 1e-10 ? abs(a - e) * 100 : abs(a - e) / abs(e) * 100
    }

    public static func bucket(_ d: Double) -> Int {
        if d >= 100 { return 6 }
        if d >= 50 { return 5 }
        return Int(d / 10)
    }

    /// Errors: different counts, no values, a non-finite expected value.
    public init<T: LoomFloat>(expected: [T], actual: [T]) throws(LoomError) {
        guard expected.count == actual.count else {
            throw LoomError(.shapeMismatch, "evaluation", "\(actual.count) predictions for \(expected.count) expected values")
        }
        guard !expected.isEmpty else { throw LoomError(.invalidArgument, "evaluation", "no values to evaluate") }
        if let i = expected.firstIndex(where: { !$0.isFinite }) {
            throw LoomError(.nonFinite, "evaluation", "expected value \(expected[i].double) at index \(i)")
        }
        counts = [Int](repeating: 0, count: 7)
        members = [[Int]](repeating: [], count: 7)
        deviations = zip(expected, actual).map { DeviationReport.deviation(expected: $0.double, actual: $1.double) }
        var sum = 0.0
        for (i, d) in deviations.enumerated() {
            let b = DeviationReport.bucket(d)
            counts[b] += 1
            members[b].append(i)
            sum += d
        }
        meanDeviation = sum / Double(deviations.count)
    }

    public var json: JSONValue {
        func num(_ v: Double) -> JSONValue { JSONNumber(v).map { .number($0) } ?? .null }
        var o = JSONObject()
        o.set("buckets", .object(JSONObject(zip(DeviationReport.buckets, counts).map { ($0, .number(JSONNumber($1))) })))
        o.set("mean_deviation", num(meanDeviation))
        o.set("score", num(score))
        o.set("worst", .array(worst().map { .object(JSONObject([("index", .number(JSONNumber($0.index))), ("deviation", num($0.deviation))])) }))
        return .object(o)
    }
}

/// When training first reached 10%, 20%, …, 100% accuracy (the original's `TrainingMetrics`
/// milestones): feed each epoch's (or step's) accuracy with its time.
public struct AccuracyMilestones: Sendable {
    public static let levels = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    /// reached[i]: the (step, seconds) at which accuracy first reached `levels[i]`%.
    public private(set) var reached: [(step: Int, seconds: Double)?] = [(step: Int, seconds: Double)?](repeating: nil, count: 10)

    public init() {}

    /// Records the accuracy (0…1) at `step`, `seconds` after the start.
    public mutating func record(accuracy: Double, step: Int, seconds: Double) {
        for (i, level) in AccuracyMilestones.levels.enumerated() where reached[i] == nil && accuracy * 100 >= Double(level) - 1e-9 {
            reached[i] = (step, seconds)
        }
    }
}

/// Follows online accuracy through scheduled task changes (the original's `AdaptationTracker`):
/// schedule the changes, record each output's correctness in order, then `finish` for per-window
/// accuracy and, per change, the accuracy before and after it and how long it took to recover.
public struct AdaptationTracker: Sendable {
    public struct TaskChange: Sendable {
        public let at: Int
        public let task: Int
        public let name: String
    }

    public struct ChangeReport: Sendable {
        public let change: TaskChange
        /// Accuracy over the window before the change and the first window after it.
        public let before: Double, after: Double
        /// Windows after the change until a window's accuracy is ≥ 50% (nil: never, within the run).
        public let recoveryWindows: Int?
        /// Outputs after the change until the accuracy over the last `window` outputs is back to
        /// 90% of its level before the change (`recoveryTicks`; nil: never, before the next change).
        public let recoveryOutputs: Int?
    }

    /// Outputs after `change` until the accuracy over the last `window` outputs is back to at least
    /// `fraction` of its level over the `window` outputs before the change; nil when it does not
    /// happen by `end` (or there is no full window before the change).
    public static func recoveryTicks(_ correct: [Bool], change: Int, end: Int, window: Int, fraction: Double = 0.9) -> Int? {
        guard change >= window, end <= correct.count else { return nil }
        let before = Double(correct[(change - window)..<change].filter { $0 }.count) / Double(window)
        var k = change + window
        while k <= end {
            if Double(correct[(k - window)..<k].filter { $0 }.count) / Double(window) >= fraction * before { return k - change }
            k += 1
        }
        return nil
    }

    public struct Report: Sendable {
        public let windowAccuracy: [Double]
        /// The mean over the windows that hold outputs.
        public let averageAccuracy: Double
        public let changes: [ChangeReport]
    }

    public let window: Int
    public private(set) var changes: [TaskChange] = []
    public private(set) var outputs: [Bool] = []

    public init(window: Int) throws(LoomError) {
        guard window > 0 else { throw LoomError(.invalidArgument, "adaptation.window", "must be positive, got \(window)") }
        self.window = window
    }

    /// Schedules a change to task `task` at output index `at`. Errors: a change at or before an
    /// output already recorded or before the last scheduled change (in the past).
    public mutating func scheduleTaskChange(at: Int, task: Int, name: String) throws(LoomError) {
        guard at >= outputs.count, at > (changes.last?.at ?? -1) else {
            throw LoomError(.invalidArgument, "adaptation.schedule", "a change at output \(at) is in the past (\(outputs.count) outputs recorded, last change at \(changes.last.map { String($0.at) } ?? "none"))")
        }
        changes.append(TaskChange(at: at, task: task, name: name))
    }

    /// The task in force for the next output.
    public var currentTask: Int { changes.last { $0.at <= outputs.count }?.task ?? 0 }

    /// Records whether the next output was correct; returns the task it belonged to.
    @discardableResult
    public mutating func record(correct: Bool) -> Int {
        let task = currentTask
        outputs.append(correct)
        return task
    }

    public func finish() -> Report {
        let windows = stride(from: 0, to: outputs.count, by: window).map { s -> Double in
            let w = outputs[s..<Swift.min(outputs.count, s + window)]
            return Double(w.filter { $0 }.count) / Double(w.count)
        }
        func accuracy(_ r: Range<Int>) -> Double {
            let c = outputs[r.clamped(to: 0..<outputs.count)]
            return c.isEmpty ? 0 : Double(c.filter { $0 }.count) / Double(c.count)
        }
        let reports = changes.enumerated().map { (i, c) -> ChangeReport in
            let end = i + 1 < changes.count ? Swift.min(changes[i + 1].at, outputs.count) : outputs.count
            var recovery: Int? = nil
            var w = 0
            while c.at + (w + 1) * window <= outputs.count {
                if accuracy((c.at + w * window)..<(c.at + (w + 1) * window)) >= 0.5 { recovery = w + 1; break }
                w += 1
            }
            return ChangeReport(change: c, before: accuracy((c.at - window)..<c.at), after: accuracy(c.at..<(c.at + window)), recoveryWindows: recovery,
                                recoveryOutputs: AdaptationTracker.recoveryTicks(outputs, change: c.at, end: end, window: window))
        }
        return Report(windowAccuracy: windows, averageAccuracy: windows.isEmpty ? 0 : windows.reduce(0, +) / Double(windows.count), changes: reports)
    }
}

/// The save/load consistency check (the original's `VerifySaveLoadConsistency`, without its
/// tolerance): the network is saved in both formats (the JSON model and safetensors), read back,
/// and run on `inputs`; every output must have the same bits.
public enum SaveLoadCheck {
    public struct Result: Sendable {
        /// Bit hashes of the outputs: the original network, reloaded from JSON, from safetensors.
        public let original: String, json: String, safetensors: String
        public var identical: Bool { original == json && original == safetensors }
    }

    public static func run<T: LoomFloat>(_ net: Network<T>, inputs: Tensor<T>, context: ComputeContext = SerialContext()) throws(LoomError) -> Result {
        let original = try net.forward(inputs, context: context).bitHash.hex
        func hash(_ any: AnyNetwork) throws(LoomError) -> String {
            switch any {
            case .f32(let n, _):
                return try n.forward(inputs.converted(to: Float.self), context: context).bitHash.hex
            case .f64(let n, _):
                return try n.forward(inputs.converted(to: Double.self), context: context).bitHash.hex
            }
        }
        let json = try hash(try AnyNetwork.load(json: ModelCodec.encode(net), source: "save/load check"))
        let st = try hash(try AnyNetwork.load(safetensors: try Safetensors(bytes: try SafetensorsCodec.encode(net), source: "save/load check")))
        return Result(original: original, json: json, safetensors: st)
    }
}
