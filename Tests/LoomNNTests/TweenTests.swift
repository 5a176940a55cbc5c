import XCTest
import LoomCore
import LoomNN

/// Neural Tweening (`TweenState`, `StepTweenTrainer`): both modes on every layer type, learning,
/// determinism, step mode equal to whole passes, explosion detection, pruning, and bad input.
final class TweenTests: XCTestCase {
    /// Every reference network takes tween steps in both modes: finite reports, the same bits for
    /// any chunk order, and weights that move.
    func testEveryReferenceNetworkTweensInBothModes() throws {
        for mode in TweenMode.allCases {
            for c in ReferenceNetworks.cases(dtype: .f32) {
                let x = ReferenceNetworks.input(c, batch: 4, as: Float.self)
                func run(_ ctx: ComputeContext) throws -> (String, TweenReport) {
                    let net = try Network<Float>(c.spec)
                    let t = try TweenState(net, config: TweenConfig(mode: mode))
                    // The output moved toward its negation: a target every output shape has.
                    let out = try net.forward(x)
                    let target = TweenTarget<Float>.values(Tensor(uncheckedShape: out.shape, data: out.data.map { 1 - $0 }))
                    var r: TweenReport? = nil
                    for _ in 0..<3 { r = try t.step(x, target: target, context: ctx) }
                    return (net.params.bitHash.hex, r!)
                }
                let (a, report) = try run(SerialContext())
                let (b, _) = try run(ShuffledContext())
                XCTAssertEqual(a, b, "\(c.name) \(mode.rawValue): chunk order changed the weights")
                XCTAssertTrue(report.loss.isFinite && report.linkBudgets.allSatisfy { $0 >= 0 && $0 <= 1 } && report.gaps.allSatisfy(\.isFinite),
                              "\(c.name) \(mode.rawValue): \(report)")
                XCTAssertNotEqual(a, try Network<Float>(c.spec).params.bitHash.hex, "\(c.name) \(mode.rawValue): no weight moved")
            }
        }
    }

    /// A two-class problem (points inside or outside a circle) learned by tweening alone.
    func testBothModesLearnAClassifier() throws {
        let spec = NetworkSpec(name: "circle", dtype: .f32, seed: 4, inputShape: [2],
                               layers: [.dense(units: 16, activation: .tanh, bias: true), .dense(units: 2, activation: .linear, bias: true)])
        let n = 64
        let pts: Tensor<Float> = Init.uniform([n, 2], bound: 1, seed: 9, name: "pts")
        let classes = (0..<n).map { i -> Int in
            let x = pts.data[2 * i], y = pts.data[2 * i + 1]
            return x * x + y * y < 0.45 ? 1 : 0
        }
        XCTAssertTrue(classes.contains(0) && classes.contains(1))
        for mode in TweenMode.allCases {
            let net = try Network<Float>(spec)
            var config = TweenConfig(mode: mode)
            config.rate = mode == .chainRule ? 0.05 : 0.02
            let t = try TweenState(net, config: config)
            func accuracy() throws -> Double {
                let y = try net.forward(pts)
                var right = 0
                for i in 0..<n where (y.data[2 * i + 1] > y.data[2 * i]) == (classes[i] == 1) { right += 1 }
                return Double(right) / Double(n)
            }
            let before = try accuracy()
            var first = 0.0, last = 0.0
            for s in 0..<400 {
                let r = try t.step(pts, target: .classes(classes))
                if s == 0 { first = r.loss }
                last = r.loss
            }
            let after = try accuracy()
            XCTAssertLessThan(last, first * 0.6, "\(mode.rawValue): loss \(first) → \(last)")
            XCTAssertGreaterThan(after, Swift.max(before, 0.8), "\(mode.rawValue): accuracy \(before) → \(after)")
        }
    }

    /// StepTween(Chain) fed one sample at a time and drained is TweenState.step on each sample,
    /// bit for bit (the same activations, the same dropout stream, the same updates).
    func testStepTweenEqualsWholePassTween() throws {
        let spec = NetworkSpec(name: "st", dtype: .f32, seed: 2, inputShape: [5],
                               layers: [.dense(units: 8, activation: .gelu, bias: true), .dropout(rate: 0.2),
                                        .layerNorm(epsilon: 1e-5, affine: true), .dense(units: 3, activation: .linear, bias: true)])
        for mode in TweenMode.allCases {
          for stashing in [false, true] {
            let whole = try Network<Float>(spec), stepped = try Network<Float>(spec)
            let t = try TweenState(whole, config: TweenConfig(mode: mode))
            let st = try StepTweenTrainer(network: stepped, config: TweenConfig(mode: mode), weightStashing: stashing)
            for i in 0..<12 {
                let x: Tensor<Float> = Init.uniform([1, 5], bound: 1, seed: UInt64(i), name: "x")
                let r = try t.step(x, target: .classes([i % 3]))
                XCTAssertNil(try st.tick(x, target: .classes([i % 3])))
                var done: StepCompleted<Float, TweenReport>? = nil
                while done == nil { done = try st.flush() }
                XCTAssertEqual(done!.tag, UInt64(i))
                XCTAssertEqual(done!.result.linkBudgets, r.linkBudgets, "\(mode.rawValue) sample \(i)")
            }
            XCTAssertEqual(whole.params.bitHash.hex, stepped.params.bitHash.hex, "\(mode.rawValue), weight stashing \(stashing)")
            XCTAssertEqual(st.state.latency, 4)
          }
        }
        // Streaming (a sample every tick) also runs, and is deterministic under concurrent stages;
        // with weight stashing each update uses the weights its sample saw, so the result differs.
        func stream(_ ctx: ComputeContext, _ concurrent: Bool, stashing: Bool = false) throws -> String {
            let net = try Network<Float>(spec)
            let st = try StepTweenTrainer(network: net, config: TweenConfig(mode: .chainRule), weightStashing: stashing)
            for i in 0..<30 {
                let x: Tensor<Float> = Init.uniform([1, 5], bound: 1, seed: UInt64(i), name: "x")
                try st.tick(x, target: .classes([i % 3]), context: ctx, concurrent: concurrent)
            }
            return net.params.bitHash.hex
        }
        XCTAssertEqual(try stream(SerialContext(), false), try stream(ShuffledContext(), true))
        XCTAssertEqual(try stream(SerialContext(), false, stashing: true), try stream(ShuffledContext(), true, stashing: true))
        XCTAssertNotEqual(try stream(SerialContext(), false), try stream(SerialContext(), false, stashing: true))
    }

    func testExplosionDetectionLowersTheRate() throws {
        let spec = NetworkSpec(name: "boom", dtype: .f32, seed: 1, inputShape: [4],
                               layers: [.dense(units: 8, activation: .relu, bias: true), .dense(units: 8, activation: .relu, bias: true),
                                        .dense(units: 2, activation: .linear, bias: true)])
        let x: Tensor<Float> = Init.uniform([8, 4], bound: 1, seed: 3, name: "x")
        let target = TweenTarget<Float>.values(Tensor(uncheckedShape: [8, 2], data: [Float](repeating: 50, count: 16)))
        var config = TweenConfig(mode: .gapClosing)
        config.rate = 5
        config.momentum = 0
        config.explosionDetection = true
        let t = try TweenState(try Network<Float>(spec), config: config)
        var lowest = 1.0
        for _ in 0..<30 { lowest = Swift.min(lowest, try t.step(x, target: target).adaptiveRate) }
        XCTAssertLessThan(lowest, 0.7, "a rate of 5 makes the gaps jump; the detector must slow it")
        config.explosionDetection = false
        let calm = try TweenState(try Network<Float>(spec), config: config)
        for _ in 0..<30 { XCTAssertEqual(try calm.step(x, target: target).adaptiveRate, 1) }
    }

    /// A stage whose output points away from its target (budget ≈ 0) for `prunePatience` steps is
    /// bypassed; the others are kept.
    func testPruningBypassesAStageThatStaysMisaligned() throws {
        let spec = NetworkSpec(name: "prune", dtype: .f32, seed: 1, inputShape: [2],
                               layers: [.dense(units: 2, activation: .linear, bias: false), .dense(units: 2, activation: .linear, bias: false)])
        let net = try Network<Float>(spec)
        try net.setParameter("layers.0.weight", Tensor(shape: [2, 2], data: [1, 0, 0, 1]))
        try net.setParameter("layers.1.weight", Tensor(shape: [2, 2], data: [-1, 0, 0, -1]))
        var config = TweenConfig(mode: .chainRule)
        config.rate = 1e-9
        config.pruning = true
        config.prunePatience = 5
        let t = try TweenState(net, config: config)
        let x = try Tensor<Float>(shape: [1, 2], data: [1, 0.5])
        var reports = [TweenReport]()
        for _ in 0..<6 { reports.append(try t.step(x, target: .values(try Tensor(shape: [1, 2], data: [1, 0.5])))) }
        XCTAssertLessThan(reports[0].linkBudgets[1], 0.01, "the last stage outputs −target")
        XCTAssertEqual(reports[3].pruned, [], "not before the patience runs out")
        XCTAssertEqual(reports[4].pruned, [1])
        XCTAssertEqual(t.pruned, [1])
        XCTAssertFalse(reports[5].updated[1])
    }

    func testBadInputIsATypedError() throws {
        let spec = NetworkSpec(name: "b", dtype: .f32, seed: 1, inputShape: [3], layers: [.dense(units: 2, activation: .linear, bias: true)])
        let net = try Network<Float>(spec)
        func expect(_ kind: LoomError.Kind, _ words: String, _ body: () throws -> Void) {
            XCTAssertThrowsError(try body()) { e in
                XCTAssertEqual((e as? LoomError)?.kind, kind, "\(e)")
                XCTAssertTrue("\(e)".contains(words), "\(e)")
            }
        }
        var c = TweenConfig()
        c.rate = 0
        expect(.invalidArgument, "tween.rate") { _ = try TweenState(net, config: c) }
        c = TweenConfig(); c.momentum = 1
        expect(.invalidArgument, "tween.momentum") { _ = try TweenState(net, config: c) }
        c = TweenConfig(); c.pruning = true
        expect(.invalidArgument, "pruning") { _ = try StepTweenTrainer(network: net, config: c) }
        let t = try TweenState(net)
        let x = try Tensor<Float>(shape: [2, 3], data: [1, 2, 3, 4, 5, 6])
        expect(.shapeMismatch, "expected 2 class indices") { try t.step(x, target: .classes([1])) }
        expect(.invalidInput, "class 2 of row 1 is outside 0..<2") { try t.step(x, target: .classes([0, 2])) }
        expect(.shapeMismatch, "expected 4 values") { try t.step(x, target: .values(try Tensor(shape: [3], data: [1, 2, 3]))) }
        expect(.nonFinite, "tween target") { try t.step(x, target: .values(try Tensor(shape: [2, 2], data: [1, .nan, 3, 4]))) }
        expect(.shapeMismatch, "input") { try t.step(try Tensor(shape: [1, 2], data: [1, 2]), target: .classes([0])) }
        XCTAssertEqual(t.steps, 0, "no failed step counts")
    }

    /// The JSON form of a config (C ABI, bindings): every field read, defaults kept, unknown or
    /// mistyped fields named by path.
    func testConfigFromJSON() throws {
        let c = try TweenConfig.decode(json: """
            {"mode": "gap_closing", "rate": 0.05, "momentum": 0.5, "ignore_threshold": 0.1, "link_budget_scale": 0.25,
             "depth_barrier": true, "depth_scale_factor": 1.5, "signal_clip": 4, "update_clip": 0.5, "gradient_scale": 0.2,
             "type_rates": {"dense": 0.75}, "explosion_detection": true, "pruning": true, "prune_threshold": 0.05, "prune_patience": 3}
            """, source: "cfg")
        var want = TweenConfig(mode: .gapClosing)
        want.rate = 0.05; want.momentum = 0.5; want.ignoreThreshold = 0.1; want.linkBudgetScale = 0.25
        want.depthBarrier = true; want.depthScaleFactor = 1.5; want.signalClip = 4; want.updateClip = 0.5; want.gradientScale = 0.2
        want.typeRates["dense"] = 0.75; want.explosionDetection = true; want.pruning = true; want.pruneThreshold = 0.05; want.prunePatience = 3
        XCTAssertEqual(c, want)
        XCTAssertEqual(try TweenConfig.decode(json: "{}", source: "cfg"), TweenConfig())
        for (text, words) in [("{\"mode\": \"up\"}", "cfg.mode"), ("{\"rates\": 1}", "cfg.rates: unknown field"),
                              ("{\"rate\": \"fast\"}", "cfg.rate: expected a number"), ("{\"type_rates\": {\"dense\": -1}}", "cfg.type_rates.dense"),
                              ("{\"prune_patience\": 0}", "cfg.prune_patience"), ("[1]", "expected an object")] {
            XCTAssertThrowsError(try TweenConfig.decode(json: text, source: "cfg")) { e in XCTAssertTrue("\(e)".contains(words), "\(text): \(e)") }
        }
    }
}

/// The adaptation benchmark's machinery (`Adaptation`): schedules, determinism of what is scored,
/// every mode on both tasks, the recovery measure.
final class AdaptationTests: XCTestCase {
    func testScheduleErrors() {
        for (ticks, switches, words) in [(100, [50, 40], "scheduled in the past"), (100, [0], "scheduled in the past"),
                                         (100, [100], "past the end"), (0, [], "must be positive")] {
            XCTAssertThrowsError(try Adaptation.Task(.sine, ticks: ticks, switches: switches)) { e in
                XCTAssertEqual((e as? LoomError)?.kind, .invalidArgument)
                XCTAssertTrue("\(e)".contains(words), "\(e)")
            }
        }
        XCTAssertNoThrow(try Adaptation.Task(.chaseAvoid, ticks: 100, switches: [10, 90]))
    }

    func testEveryModeRunsAndScoresDeterministically() throws {
        var clockTicks = 0.0
        let fake = { () -> Double in clockTicks += 1e-6; return clockTicks }
        for kind in Adaptation.Task.Kind.allCases {
            let task = try Adaptation.Task(kind, ticks: 120, switches: [60])
            for mode in Adaptation.Mode.allCases {
                let a = try Adaptation.run(task, mode: mode, seed: 7, clock: fake)
                let b = try Adaptation.run(task, mode: mode, seed: 7, clock: { 0 })
                XCTAssertEqual(a.correct, b.correct, "\(kind) \(mode): predictions do not depend on timing")
                XCTAssertEqual(a.correct.count, 120)
                XCTAssertEqual(a.stalls.count, 120)
                XCTAssertGreaterThan(a.trainingSeconds, 0)
                XCTAssertEqual(b.availability(streamSeconds: task.seconds), 1, "no time passed: never blocked")
                let c = try Adaptation.run(task, mode: mode, seed: 8, clock: { 0 })
                XCTAssertNotEqual(c.correct, a.correct, "\(kind) \(mode): another seed, other weights")
            }
        }
        // The chase/avoid targets flip with the phase; the sine's frequency steps up.
        let chase = try Adaptation.Task(.chaseAvoid, ticks: 10, switches: [5])
        XCTAssertEqual(chase.phase(4), 0)
        XCTAssertEqual(chase.phase(5), 1)
    }

    func testRecoveryMeasure() {
        let before = [Bool](repeating: true, count: 100)
        let dip = [Bool](repeating: false, count: 30)
        let after = [Bool](repeating: true, count: 100)
        // Back to ≥ 90% of the pre-switch 100% over 50 ticks: 45 right of the last 50, i.e. 30 + 45 ticks after the switch.
        XCTAssertEqual(AdaptationTracker.recoveryTicks(before + dip + after, change: 100, end: 230, window: 50), 75)
        XCTAssertNil(AdaptationTracker.recoveryTicks(before + dip, change: 100, end: 130, window: 50), "not within the phase")
        XCTAssertNil(AdaptationTracker.recoveryTicks(before, change: 10, end: 100, window: 50), "no window before the switch")
    }
}
