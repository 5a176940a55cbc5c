import Loom
import LoomCore
import LoomNN
import XCTest

/// conv1d/conv2d, pooling, global_avg_pool, flatten and reshape: PyTorch fixtures
/// (Fixtures/torch/conv.json from scripts/fixtures/torch_conv.py), finite differences, the
/// padding rule, thread invariance at size, the IR and bad input.
final class ConvTests: XCTestCase {
    func cases() throws -> [JSONValue] {
        let cases = try Fixture.json("Fixtures/torch/conv.json")["cases"]!.arrayValue!
        XCTAssertGreaterThan(cases.count, 25)
        return cases
    }




    func net(_ layers: String, input: String) -> String {
        "{\"format\": \"loom\", \"version\": 1, \"dtype\": \"f64\", \"input\": {\"shape\": \(input)}, \"layers\": [\(layers)]}"
    }

    /// Padding taps are included in the chain as fma(+0, w, acc): with acc = −0 (an underflowed
    /// negative product) a padding tap after it turns the result into +0, before it changes nothing.
    func testPaddingTapsAreIncludedAsPositiveZeroProducts() throws {
        let spec = try IRDecoder.decode(json: net("{\"type\": \"conv1d\", \"filters\": 1, \"kernel_size\": 2, \"padding\": 1, \"bias\": false}",
                                                  input: "[1, 1]"))
        let n = try Network<Double>(spec)
        try n.setParameter("layers.0.weight", Tensor(shape: [1, 1, 2], data: [1e-200, 1e-200]))
        let x = try Tensor<Double>(shape: [1, 1, 1], data: [-1e-200])
        for ctx in [SerialContext(), CPUContext(threads: 2)] as [ComputeContext] {
            let y = try n.forward(x, context: ctx)
            XCTAssertEqual(y.shape, [1, 1, 2])
            // y[0]: fma(+0, w, +0) = +0, then fma(x, w, +0) = −0 (underflow keeps the sign).
            XCTAssertEqual(y.data[0].bitPattern, (-0.0).bitPattern)
            // y[1]: fma(x, w, +0) = −0, then the padding tap fma(+0, w, −0) = +0.
            XCTAssertEqual(y.data[1].bitPattern, (0.0).bitPattern)
        }
    }

    /// Big enough that the gemm splits and the row-parallel loops engage: forward and every
    /// gradient are bit-identical for the serial reference and 1, 2, 3, 8 threads.
    func testThreadInvarianceAtSize() throws {
        let spec = NetworkSpec(name: "cnn", dtype: .f32, seed: 3, inputShape: [3, 20, 18], layers: [
            .conv(ConvSpec(rank: 2, filters: 16, kernel: [3, 3], padding: [1, 1], activation: .relu)),
            .pool(PoolSpec(kind: .max, rank: 2, kernel: [3, 3], stride: [2, 2], padding: [1, 1])),
            .conv(ConvSpec(rank: 2, filters: 8, kernel: [3, 2], stride: [1, 2], dilation: [2, 1], groups: 4, activation: .gelu)),
            .pool(PoolSpec(kind: .avg, rank: 2, kernel: [2, 2], stride: [1, 1], padding: [1, 1])),
            .flatten, .dense(units: 5, activation: .linear, bias: true)])
        let x: Tensor<Float> = Init.uniform([8, 3, 20, 18], bound: 1, seed: 1, name: "x")
        let g: Tensor<Float> = Init.uniform([8, 5], bound: 1, seed: 2, name: "g")
        var results = [[UInt64]]()
        for ctx in [SerialContext(), CPUContext(threads: 1), CPUContext(threads: 2), CPUContext(threads: 3), CPUContext(threads: 8)] as [ComputeContext] {
            let n = try Network<Float>(spec)
            let pass = n.trainingPass(context: ctx, step: 0)
            let y = try n.forward(x, pass: pass)
            let dx = n.backward(g, pass: pass)
            results.append(bits(y) + bits(dx) + n.params.grads.flatMap { bits($0) })
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
    }

    func testIRRoundTripAndParameters() throws {
        let text = net("""
            {"type": "conv2d", "filters": 4, "kernel_size": [3, 2], "stride": 2, "padding": [1, 0], "dilation": 1, "groups": 2, "activation": "relu"},
            {"type": "max_pool2d", "kernel_size": 2, "padding": 1}, {"type": "avg_pool2d", "kernel_size": [1, 2], "stride": 1},
            {"type": "reshape", "shape": [4, -1]}, {"type": "conv1d", "filters": 3, "kernel_size": 2, "bias": false},
            {"type": "avg_pool1d", "kernel_size": 2}, {"type": "max_pool1d", "kernel_size": 1}, {"type": "global_avg_pool"},
            {"type": "flatten"}
            """, input: "[2, 9, 8]")
        let spec = try IRDecoder.decode(json: text)
        guard case .pool(let p) = spec.layers[1] else { return XCTFail() }
        XCTAssertEqual(p.stride, [2, 2], "pooling stride defaults to the kernel size")
        let again = try IRDecoder.decode(json: JSONValue.object(IREncoder.encode(spec)).serialized())
        XCTAssertEqual(again, spec)
        let n = try Network<Double>(spec)
        XCTAssertEqual(n.params.names, ["layers.0.weight", "layers.0.bias", "layers.4.weight"])
        XCTAssertEqual(n.params.values.map { $0.shape }, [[4, 1, 3, 2], [4], [3, 4, 2]])
        // [2,9,8] → conv [4,5,4] → max pool [4,3,3] → avg [4,3,2] → reshape [4,6] → conv1d [3,5] → [3,2] → [3,2] → [3] → [3]
        XCTAssertEqual(n.allLayers.map { $0.outputShape }, [[4, 5, 4], [4, 3, 3], [4, 3, 2], [4, 6], [3, 5], [3, 2], [3, 2], [3], [3]])
    }

    func expectError(_ json: String, _ kind: LoomError.Kind, path: String, contains: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try Network<Double>(try IRDecoder.decode(json: json))
            XCTFail("no error for \(json)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.kind, kind, error.description, file: file, line: line)
            XCTAssertEqual(error.path, path, error.description, file: file, line: line)
            if !contains.isEmpty { XCTAssertTrue(error.description.contains(contains), error.description, file: file, line: line) }
        }
    }

    func testBadInputGetsATypedErrorNamingThePlace() {
        func conv(_ fields: String, rank: Int = 2) -> String { "{\"type\": \"conv\(rank)d\", \(fields)}" }
        // Kernel larger than the (padded) input, plain and through dilation.
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 6"), input: "[1, 5, 8]"), .shapeMismatch,
                    path: "layers[0].kernel_size[0]", contains: "padded input has only 5")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 4, \"dilation\": [1, 3]"), input: "[1, 5, 8]"), .shapeMismatch,
                    path: "layers[0].kernel_size[1]", contains: "spans 10")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 9, \"padding\": 1", rank: 1), input: "[1, 6]"), .shapeMismatch,
                    path: "layers[0].kernel_size", contains: "only 8")
        XCTAssertNoThrow(try Network<Double>(try IRDecoder.decode(json: net(conv("\"filters\": 2, \"kernel_size\": 8, \"padding\": 1", rank: 1), input: "[1, 6]"))))
        expectError(net("{\"type\": \"max_pool2d\", \"kernel_size\": 3}", input: "[1, 2, 8]"), .shapeMismatch, path: "layers[0].kernel_size[0]")
        // Zero or negative stride, negative padding, zero dilation, bad pairs.
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2, \"stride\": 0"), input: "[1, 5, 5]"), .invalidIR,
                    path: "layers[0].stride", contains: "at least 1")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2, \"stride\": [1, -2]"), input: "[1, 5, 5]"), .invalidIR, path: "layers[0].stride[1]")
        expectError(net("{\"type\": \"avg_pool1d\", \"kernel_size\": 2, \"stride\": -1}", input: "[1, 5]"), .invalidIR, path: "layers[0].stride")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2, \"padding\": -1"), input: "[1, 5, 5]"), .invalidIR, path: "layers[0].padding")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2, \"dilation\": 0", rank: 1), input: "[1, 5]"), .invalidIR, path: "layers[0].dilation")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": [2, 2]", rank: 1), input: "[1, 5]"), .invalidIR,
                    path: "layers[0].kernel_size", contains: "1 integers")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": [2, 2, 2]"), input: "[1, 5, 5]"), .invalidIR, path: "layers[0].kernel_size")
        expectError(net(conv("\"filters\": 2"), input: "[1, 5, 5]"), .invalidIR, path: "layers[0].kernel_size", contains: "required")
        expectError(net(conv("\"filters\": 0, \"kernel_size\": 1"), input: "[1, 5, 5]"), .invalidIR, path: "layers[0].filters")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 1, \"strides\": 1"), input: "[1, 5, 5]"), .invalidIR,
                    path: "layers[0].strides", contains: "unknown field")
        // Groups.
        expectError(net(conv("\"filters\": 4, \"kernel_size\": 1, \"groups\": 2"), input: "[3, 5, 5]"), .shapeMismatch,
                    path: "layers[0].groups", contains: "3 input channels")
        expectError(net(conv("\"filters\": 3, \"kernel_size\": 1, \"groups\": 2"), input: "[4, 5, 5]"), .invalidIR,
                    path: "layers[0].groups", contains: "filters 3")
        expectError(net(conv("\"filters\": 3, \"kernel_size\": 1, \"groups\": 0"), input: "[4, 5, 5]"), .invalidIR, path: "layers[0].groups")
        // Wrong input rank.
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2"), input: "[5, 5]"), .shapeMismatch, path: "layers[0]",
                    contains: "[channels, height, width]")
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 2", rank: 1), input: "[2, 5, 5]"), .shapeMismatch, path: "layers[0]",
                    contains: "[channels, length]")
        expectError(net("{\"type\": \"dense\", \"units\": 4}, {\"type\": \"max_pool1d\", \"kernel_size\": 2}", input: "[6]"), .shapeMismatch,
                    path: "layers[1]")
        expectError(net("{\"type\": \"global_avg_pool\"}", input: "[6]"), .shapeMismatch, path: "layers[0]")
        // Pool padding above half the kernel (PyTorch's rule).
        expectError(net("{\"type\": \"max_pool2d\", \"kernel_size\": 3, \"padding\": [1, 2]}", input: "[1, 6, 6]"), .invalidIR,
                    path: "layers[0].padding[1]", contains: "half")
        // Reshape.
        expectError(net("{\"type\": \"reshape\", \"shape\": [5, 3]}", input: "[2, 8]"), .shapeMismatch, path: "layers[0].shape",
                    contains: "15 elements")
        expectError(net("{\"type\": \"reshape\", \"shape\": [-1, 3]}", input: "[2, 8]"), .shapeMismatch, path: "layers[0].shape")
        expectError(net("{\"type\": \"reshape\", \"shape\": [-1, -1]}", input: "[2, 8]"), .invalidIR, path: "layers[0].shape", contains: "one entry")
        expectError(net("{\"type\": \"reshape\", \"shape\": [4, 0]}", input: "[2, 8]"), .invalidIR, path: "layers[0].shape[1]")
        expectError(net("{\"type\": \"reshape\", \"shape\": [-2, 8]}", input: "[2, 8]"), .invalidIR, path: "layers[0].shape[0]")
        expectError(net("{\"type\": \"reshape\", \"shape\": [4611686018427387904, 4]}", input: "[2, 8]"), .invalidIR, path: "layers[0].shape[0]",
                    contains: "at most 2^31")
        expectError(net("{\"type\": \"reshape\", \"shape\": [2147483648, 2147483648, 4]}", input: "[2, 8]"), .shapeMismatch, path: "layers[0].shape")
        expectError(net("{\"type\": \"reshape\"}", input: "[2, 8]"), .invalidIR, path: "layers[0].shape", contains: "required")
        // Absurd sizes.
        expectError(net(conv("\"filters\": 2, \"kernel_size\": 1, \"padding\": 9223372036854775807"), input: "[1, 5, 5]"), .invalidIR,
                    path: "layers[0].padding", contains: "2^31")
        expectError(net(conv("\"filters\": 1, \"kernel_size\": 3, \"padding\": 2147483647"), input: "[1, 5, 5]"), .invalidIR,
                    path: "layers[0].padding", contains: "more than 2^31 elements")
        expectError(net(conv("\"filters\": 100000, \"kernel_size\": 1"), input: "[100000, 1, 1]"), .invalidIR, path: "layers[0].filters",
                    contains: "2^31")
        expectError(net(conv("\"filters\": 1, \"kernel_size\": 1, \"padding\": 100000"), input: "[1, 1, 1]"), .invalidIR, path: "layers[0].padding",
                    contains: "2^31")
    }
}
