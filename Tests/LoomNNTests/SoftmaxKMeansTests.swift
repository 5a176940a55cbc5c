import LoomCore
import LoomNN
import XCTest

/// A context that runs chunks of one item each, last first: any dependence on the split or the
/// order of chunks shows up as different bits.
private final class ReversedContext: ComputeContext {
    var threads: Int { 7 }
    func parallelFor(_ count: Int, _ body: (Int) -> Void) { for i in (0..<count).reversed() { body(i) } }
    func sgemm(_ p: GemmProblem<Float>) { SerialContext().sgemm(p) }
    func dgemm(_ p: GemmProblem<Double>) { SerialContext().dgemm(p) }
}

/// The softmax family and the kmeans layer (Fixtures/torch/softmax_kmeans.json, made by
/// scripts/fixtures/torch_softmax_kmeans.py), the simplex properties of sparsemax and entmax,
/// Gumbel noise, classic k-means and the silhouette against scikit-learn, and bad input.
final class SoftmaxKMeansTests: XCTestCase {
    func fixture() throws -> JSONValue { try Fixture.json("Fixtures/torch/softmax_kmeans.json") }
    func cases() throws -> [JSONValue] { try fixture()["cases"]!.arrayValue! }




    func randomRows(_ rows: Int, _ n: Int, scale: Double, name: String) -> [Double] {
        var s = PhiloxSequence(seed: 5, stream: StreamID.of(name))
        return (0..<(rows * n)).map { _ in scale * (2 * Double(s.next() >> 11) * 0x1p-53 - 1) }
    }

    func softmaxNet<T: LoomFloat>(_ v: SoftmaxVariant, _ n: Int, as: T.Type) throws -> Network<T> {
        try Network<T>(NetworkSpec(dtype: T.dtype, inputShape: [n], layers: [.softmax(v)]))
    }

    /// Sparsemax sums to 1 up to rounding and is the projection onto the simplex: on the support
    /// x − y is one constant τ, off it x ≤ τ (KKT conditions of min ‖y − x‖² on the simplex).
    func testSparsemaxIsTheSimplexProjection() throws {
        for n in [1, 2, 5, 17, 64] {
            let rows = 40
            let data = randomRows(rows, n, scale: 3, name: "sparsemax\(n)")
            let y = try softmaxNet(.sparsemax, n, as: Double.self).forward(Tensor(uncheckedShape: [rows, n], data: data))
            for r in 0..<rows {
                let x = Array(data[(r * n)..<(r * n + n)]), p = Array(y.data[(r * n)..<(r * n + n)])
                XCTAssertEqual(p.reduce(0, +), 1, accuracy: Double(n) * 4e-16)
                guard let i0 = p.firstIndex(where: { $0 > 0 }) else { XCTFail("empty support"); continue }
                let tau = x[i0] - p[i0]
                for i in 0..<n {
                    XCTAssertGreaterThanOrEqual(p[i], 0)
                    if p[i] > 0 { XCTAssertEqual(x[i] - p[i], tau, accuracy: 1e-14) } else { XCTAssertLessThanOrEqual(x[i], tau + 1e-14) }
                }
            }
            let y32 = try softmaxNet(.sparsemax, n, as: Float.self).forward(Tensor(uncheckedShape: [rows, n], data: data.map { Float($0) }))
            for r in 0..<rows {
                XCTAssertEqual(y32.data[(r * n)..<(r * n + n)].reduce(0, +), 1, accuracy: Float(n) * 2e-7)
            }
        }
    }

    func testEntmaxSumsToOneAndIsSparse() throws {
        let n = 9, rows = 30
        let data = randomRows(rows, n, scale: 4, name: "entmax")
        for alpha in [1.1, 1.5, 2.0] {
            let y = try softmaxNet(.entmax(alpha: alpha), n, as: Double.self).forward(Tensor(uncheckedShape: [rows, n], data: data))
            var zeros = 0
            for r in 0..<rows {
                XCTAssertEqual(y.data[(r * n)..<(r * n + n)].reduce(0, +), 1, accuracy: 1e-14)
                zeros += y.data[(r * n)..<(r * n + n)].filter { $0 == 0 }.count
            }
            if alpha >= 1.5 { XCTAssertGreaterThan(zeros, 0, "α = \(alpha)") }
        }
        // α = 2 is sparsemax.
        let e2 = try softmaxNet(.entmax(alpha: 2), n, as: Double.self).forward(Tensor(uncheckedShape: [rows, n], data: data))
        let sp = try softmaxNet(.sparsemax, n, as: Double.self).forward(Tensor(uncheckedShape: [rows, n], data: data))
        for i in 0..<e2.count { XCTAssertEqual(e2.data[i], sp.data[i], accuracy: 1e-13) }
    }

    func testHierarchicalAdaptiveMixtureAreDistributions() throws {
        let specs: [(SoftmaxVariant, Int)] = [(.hierarchical(levels: [3, 2, 4]), 24), (.adaptive(headSize: 4, clusters: [5, 1, 3]), 16),
                                              (.mixture(components: 4), 24)]
        for (v, n) in specs {
            let net = try softmaxNet(v, n, as: Double.self)
            let y = try net.forward(Tensor(uncheckedShape: [5, n], data: randomRows(5, n, scale: 3, name: v.name)))
            let w = net.outputShape.last!
            for r in 0..<5 { XCTAssertEqual(y.data[(r * w)..<(r * w + w)].reduce(0, +), 1, accuracy: 1e-14, v.name) }
        }
        // One level is the standard softmax, bit for bit.
        let x = Tensor(uncheckedShape: [3, 6], data: randomRows(3, 6, scale: 2, name: "h1"))
        XCTAssertEqual(bits(try softmaxNet(.hierarchical(levels: [6]), 6, as: Double.self).forward(x)),
                       bits(try softmaxNet(.standard, 6, as: Double.self).forward(x)))
    }

    /// Gumbel softmax: inference is the temperature softmax bit for bit; a training pass adds
    /// g = −log(−log u) from Philox (stream "gumbel:" + layer name, step), the same at every thread
    /// count, different at another step; backward (same noise) matches finite differences.
    func testGumbelNoise() throws {
        let n = 5, rows = 4, tau = 0.8
        let spec = NetworkSpec(dtype: .f64, seed: 42, inputShape: [n], layers: [.dense(units: n, activation: .tanh, bias: true), .softmax(.gumbel(temperature: tau))])
        let net = try Network<Double>(spec)
        var x = Tensor(uncheckedShape: [rows, n], data: randomRows(rows, n, scale: 1, name: "gumbel"))
        var plain = spec
        plain.layers[1] = .softmax(.temperature(tau))
        let net2 = try Network<Double>(plain)
        XCTAssertEqual(bits(try net.forward(x)), bits(try net2.forward(x)))

        let pass = net.trainingPass(context: SerialContext(), step: 3)
        let y = try net.forward(x, pass: pass)
        let h = try Network<Double>(NetworkSpec(dtype: .f64, seed: 42, inputShape: [n], layers: [.dense(units: n, activation: .tanh, bias: true)])).forward(x)
        let stream = StreamID.of("gumbel:layers.1", 3)
        for r in 0..<rows {
            var z = [Double](repeating: 0, count: n)
            for i in 0..<n { z[i] = (h.data[r * n + i] + GumbelNoise.sample(seed: 42, stream: stream, index: r * n + i)) / tau }
            let m = z.max()!, e = z.map { DetMath.exp($0 - m) }, s = e.reduce(0, +)
            for i in 0..<n { XCTAssertEqual(y.data[r * n + i], e[i] / s, accuracy: 1e-15) }
        }
        let yThreads = try net.forward(x, pass: net.trainingPass(context: ReversedContext(), step: 3))
        XCTAssertEqual(bits(yThreads), bits(y))
        XCTAssertNotEqual(bits(try net.forward(x, pass: net.trainingPass(context: SerialContext(), step: 4))), bits(y))

        // Finite differences with the noise of step 3 fixed.
        let g = Tensor(uncheckedShape: [rows, n], data: randomRows(rows, n, scale: 1, name: "gumbel-g"))
        func loss() throws -> Double {
            let y = try net.forward(x, pass: net.trainingPass(context: SerialContext(), step: 3))
            return zip(y.data, g.data).map { $0 * $1 }.reduce(0, +)
        }
        net.params.zeroGrads()
        let p = net.trainingPass(context: SerialContext(), step: 3)
        _ = try net.forward(x, pass: p)
        let dx = net.backward(g, pass: p)
        let hstep = 1e-6
        for i in 0..<x.count {
            let x0 = x.data[i]
            x.data[i] = x0 + hstep; let lp = try loss()
            x.data[i] = x0 - hstep; let lm = try loss()
            x.data[i] = x0
            XCTAssertEqual(dx.data[i], (lp - lm) / (2 * hstep), accuracy: 1e-7)
        }
    }

    /// The centers are an ordinary parameter: backward accumulates their gradient and leaves their
    /// values alone; results do not depend on the thread split.
    func testKMeansCentersOnlyGetGradients() throws {
        for d in KMeansDistance.allCases {
            for o in KMeansOutput.allCases {
                let net = try Network<Double>(NetworkSpec(dtype: .f64, seed: 9, inputShape: [3],
                                                          layers: [.kmeans(KMeansSpec(clusters: 4, distance: d, temperature: 0.5, output: o))]))
                XCTAssertEqual(net.params.names, ["layers.0.centers"])
                let before = net.params.values[0].data
                let x = Tensor(uncheckedShape: [6, 3], data: randomRows(6, 3, scale: 2, name: "km"))
                let g = Tensor(uncheckedShape: [6] + net.outputShape, data: randomRows(6, net.outputShape[0], scale: 1, name: "kmg"))
                var results = [[UInt64]]()
                for ctx: ComputeContext in [SerialContext(), ReversedContext()] {
                    net.params.zeroGrads()
                    let p = net.trainingPass(context: ctx, step: 0)
                    let y = try net.forward(x, pass: p)
                    let dx = net.backward(g, pass: p)
                    results.append(bits(y) + bits(dx) + bits(net.params.grads[0]))
                }
                XCTAssertEqual(results[0], results[1], "\(d) \(o)")
                XCTAssertEqual(net.params.values[0].data, before)
                XCTAssertTrue(net.params.grads[0].data.contains { $0 != 0 })
            }
        }
    }

    func testClassicKMeansReachesScikitLearnInertia() throws {
        for c in try fixture()["kmeans"]!.arrayValue! {
            let pts: Tensor<Double> = Fixture.tensor(c["points"])
            let k = c["k"]!.numberValue!.int!, dim = pts.shape[1]
            let expected = c["inertia"]!.numberValue!.double!
            let r = try Clustering.kMeans(pts.data, dim: dim, k: k, seed: 1, restarts: 10)
            XCTAssertLessThanOrEqual(r.inertia, expected * (1 + 1e-9), c["name"]!.stringValue!)
            XCTAssertGreaterThanOrEqual(r.inertia, expected * (1 - 1e-9), c["name"]!.stringValue!)
            let again = try Clustering.kMeans(pts.data, dim: dim, k: k, seed: 1, restarts: 10, context: ReversedContext())
            XCTAssertEqual(again.centers.map { $0.bitPattern }, r.centers.map { $0.bitPattern })
            XCTAssertEqual(again.labels, r.labels)
            let rnd = try Clustering.kMeans(pts.data, dim: dim, k: k, seed: 2, initialization: .random, restarts: 10)
            XCTAssertLessThanOrEqual(rnd.inertia, expected * (1 + 1e-9))
            let f = try Clustering.kMeans(pts.data.map { Float($0) }, dim: dim, k: k, seed: 1, restarts: 10)
            XCTAssertEqual(Double(f.inertia), expected, accuracy: expected * 1e-5)
        }
    }

    func testSilhouetteMatchesScikitLearn() throws {
        for c in try fixture()["silhouette"]!.arrayValue! {
            let pts: Tensor<Double> = Fixture.tensor(c["points"])
            let labels = c["labels"]!.arrayValue!.map { $0.numberValue!.int! }
            let expected = c["score"]!.numberValue!.double!
            let s = try Clustering.silhouetteScore(pts.data, dim: pts.shape[1], labels: labels)
            XCTAssertEqual(s, expected, accuracy: 1e-12, c["name"]!.stringValue!)
            XCTAssertEqual(try Clustering.silhouetteScore(pts.data, dim: pts.shape[1], labels: labels, context: ReversedContext()).bitPattern,
                           s.bitPattern)
        }
    }

    func testClusteringBadArguments() {
        func expect(_ kind: LoomError.Kind, _ path: String, _ f: () throws -> Void) {
            do { try f(); XCTFail("no error for \(path)") } catch let e as LoomError {
                XCTAssertEqual(e.kind, kind, e.description); XCTAssertEqual(e.path, path, e.description)
            } catch { XCTFail("\(error)") }
        }
        let pts: [Double] = [0, 0, 1, 1, 2, 2, 3, 3]
        expect(.invalidArgument, "k") { _ = try Clustering.kMeans(pts, dim: 2, k: 5, seed: 0) }
        expect(.invalidArgument, "k") { _ = try Clustering.kMeans(pts, dim: 2, k: 0, seed: 0) }
        expect(.invalidArgument, "points") { _ = try Clustering.kMeans(pts, dim: 3, k: 1, seed: 0) }
        expect(.nonFinite, "points") { _ = try Clustering.kMeans([0, .nan], dim: 1, k: 1, seed: 0) }
        expect(.invalidArgument, "labels") { _ = try Clustering.silhouetteScore(pts, dim: 2, labels: [0, 0, 0, 0]) }
        expect(.invalidArgument, "labels") { _ = try Clustering.silhouetteScore(pts, dim: 2, labels: [0, 1]) }
    }

    func expectIRError(_ layers: String, input: String = "[6]", _ kind: LoomError.Kind, path: String, contains: String = "",
                       file: StaticString = #filePath, line: UInt = #line) {
        let json = "{\"format\": \"loom\", \"version\": 1, \"input\": {\"shape\": \(input)}, \"layers\": [\(layers)]}"
        do {
            _ = try Network<Float>(try IRDecoder.decode(json: json))
            XCTFail("no error for \(layers)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertEqual(error.path, path, error.description, file: file, line: line)
            if !contains.isEmpty { XCTAssertTrue(error.description.contains(contains), error.description, file: file, line: line) }
        }
    }

    func testBadIR() {
        let sm = "{\"type\": \"softmax\", \"variant\": "
        expectIRError(sm + "\"hierarchical\", \"levels\": [2, 2]}", .shapeMismatch, path: "layers[0].levels", contains: "product")
        expectIRError(sm + "\"hierarchical\"}", .invalidIR, path: "layers[0].levels")
        expectIRError(sm + "\"hierarchical\", \"levels\": [2, 0, 3]}", .invalidIR, path: "layers[0].levels[1]")
        expectIRError(sm + "\"entmax\", \"alpha\": 1}", .invalidIR, path: "layers[0].alpha")
        expectIRError(sm + "\"entmax\", \"alpha\": 2.5}", .invalidIR, path: "layers[0].alpha")
        expectIRError(sm + "\"gumbel\", \"temperature\": 0}", .invalidIR, path: "layers[0].temperature")
        expectIRError(sm + "\"adaptive\", \"head_size\": 2, \"clusters\": [2]}", .shapeMismatch, path: "layers[0]", contains: "head_size")
        expectIRError(sm + "\"adaptive\", \"head_size\": 2}", .invalidIR, path: "layers[0].clusters")
        expectIRError(sm + "\"mixture\", \"components\": 4}", .shapeMismatch, path: "layers[0].components")
        expectIRError(sm + "\"mixture\", \"components\": 0}", .invalidIR, path: "layers[0].components")
        expectIRError(sm + "\"sparsemax\", \"alpha\": 1.5}", .invalidIR, path: "layers[0].alpha", contains: "unknown field")
        expectIRError(sm + "\"bogus\"}", .invalidIR, path: "layers[0].variant", contains: "entmax")
        expectIRError("{\"type\": \"parallel\", \"combine\": \"filter\", \"branches\": [{\"type\": \"dense\", \"units\": 2}, {\"type\": \"dense\", \"units\": 2}], \"gate\": {\"type\": \"dense\", \"units\": 2}, \"gate_softmax\": {\"type\": \"softmax\", \"variant\": \"mixture\", \"components\": 1}}",
                      .invalidIR, path: "layers[0].gate_softmax")
        let km = "{\"type\": \"kmeans\", "
        expectIRError(km + "\"clusters\": 0}", .invalidIR, path: "layers[0].clusters")
        expectIRError(km + "\"dim\": 3}", .invalidIR, path: "layers[0].clusters", contains: "required")
        expectIRError(km + "\"clusters\": 3, \"dim\": 4}", .shapeMismatch, path: "layers[0].dim")
        expectIRError(km + "\"clusters\": 3, \"distance\": \"chebyshev\"}", .invalidIR, path: "layers[0].distance", contains: "manhattan")
        expectIRError(km + "\"clusters\": 3, \"output\": \"labels\"}", .invalidIR, path: "layers[0].output")
        expectIRError(km + "\"clusters\": 3, \"temperature\": -1}", .invalidIR, path: "layers[0].temperature")
        expectIRError(km + "\"clusters\": 100000, \"dim\": 100000}", input: "[100000]", .invalidIR, path: "layers[0].clusters", contains: "2^31")
    }

    func testIRRoundTrip() throws {
        let layers: [LayerSpec] = [.softmax(.hierarchical(levels: [2, 3])), .softmax(.gumbel(temperature: 0.5)), .softmax(.sparsemax),
                                   .softmax(.entmax(alpha: 1.25)), .kmeans(KMeansSpec(clusters: 2, dim: 6, distance: .cosine, temperature: 2, output: .features)),
                                   .softmax(.adaptive(headSize: 1, clusters: [2, 1])), .softmax(.mixture(components: 2))]
        let spec = NetworkSpec(inputShape: [6], layers: layers)
        let again = try IRDecoder.decode(json: JSONValue.object(IREncoder.encode(spec)).serialized())
        XCTAssertEqual(again, spec)
        XCTAssertEqual(try Network<Float>(spec).outputShape, [1])
    }
}
