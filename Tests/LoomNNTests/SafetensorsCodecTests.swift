import Foundation
import LoomCore
import LoomNN
import XCTest

/// Networks saved as safetensors and loaded back: every reference network × every dtype, bit
/// for bit against what the dtype represents; and the load errors.
final class SafetensorsCodecTests: XCTestCase {
    /// Moves every parameter away from its initial value (so that a load that did nothing
    /// cannot pass), deterministically, with a spread of magnitudes and some exact zeros.
    func perturb<T: LoomFloat>(_ net: Network<T>, seed: UInt64) {
        var g = PhiloxSequence(seed: seed)
        for p in 0..<net.params.count {
            for i in 0..<net.params.values[p].count {
                let r = g.next()
                let v = net.params.values[p].data[i].double
                let noise = Double(Int64(bitPattern: r) >> 11) * 0x1p-52 * Double(1 << (r % 5))
                net.params.values[p].data[i] = r % 17 == 0 ? 0 : T(v * 1.37 + noise)
            }
        }
    }

    /// What a parameter is expected to read back as, computed with the dtypes' and grids' own
    /// functions (not the codec's).
    func expected<T: LoomFloat>(_ t: Tensor<T>, _ o: SafetensorsCodec.Options) -> [T] {
        let dt = o.dtype ?? T.dtype
        guard let grid = QuantGrid(dt) else {
            if T.dtype == .f64 { return t.data.map { T(DType.roundTrip($0.double, through: dt)) } }
            return t.data.map { T(bits64: UInt64(DType.roundTrip(Float(bits64ToFloat: $0.bits64), through: dt).bitPattern)) }
        }
        if t.rank < 2 && !o.quantizeVectors { return t.data }
        var data = t.data
        if t.rank >= 2 && o.granularity == .perChannel {
            let rows = t.shape[0], cols = t.count / rows
            return data.withUnsafeBufferPointer {
                QuantizedRows(SerialContext(), $0.baseAddress!, rows: rows, cols: cols, rowStride: cols, colStride: 1, grid: grid)
            }.dequantized(as: T.self)
        }
        var scratch = [Int64](repeating: 0, count: data.count)
        data.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { s in grid.fakeQuantize(p.baseAddress!, count: p.count, scratch: s.baseAddress!) }
        }
        return data
    }

    func check<T: LoomFloat>(_ c: ReferenceNetworks.Case, _ o: SafetensorsCodec.Options, as: T.Type) throws {
        let what = "\(c.name) stored as \((o.dtype ?? T.dtype).name) \(o.granularity.rawValue)\(o.quantizeVectors ? " +vectors" : "")"
        let net = try Network<T>(c.spec)
        perturb(net, seed: UInt64(c.name.utf8.count) &* 7919 &+ 1)
        let bytes = try SafetensorsCodec.encode(net, options: o)
        let file = try Safetensors(bytes: bytes, source: what)
        // Loaded on its own (the IR comes from the metadata) ...
        let loaded = try AnyNetwork.load(safetensors: file)
        XCTAssertEqual(IREncoder.encode(loaded.spec), IREncoder.encode(net.spec), what)
        let params: ParameterStore<T>
        switch loaded {
        case .f32(let n, _): params = try XCTUnwrap(n.params as? ParameterStore<T>, what)
        case .f64(let n, _): params = try XCTUnwrap(n.params as? ParameterStore<T>, what)
        }
        // ... and into a network with other values.
        var other = c.spec
        other.seed = c.spec.seed + 1
        let into = try Network<T>(other)
        try SafetensorsCodec.load(file, into: into)
        XCTAssertEqual(params.names, net.params.names, what)
        var quantized = 0
        for p in 0..<net.params.count {
            let want = expected(net.params.values[p], o).map { $0.bits64 }
            XCTAssertEqual(params.values[p].shape, net.params.values[p].shape, what)
            for (label, got) in [("alone", params.values[p].data), ("into a network", into.params.values[p].data)] {
                let bits = got.map { $0.bits64 }
                if bits.count != want.count { XCTFail("\(what), \(label): \(bits.count) values for \(want.count)"); continue }
                if let i = (0..<want.count).first(where: { bits[$0] != want[$0] }) {
                    XCTFail("\(what), \(label): \(net.params.names[p])[\(i)] = \(got[i]) (0x\(String(bits[i], radix: 16))), expected \(T(bits64: want[i])) (0x\(String(want[i], radix: 16)))")
                }
            }
            if file.tensor(net.params.names[p] + SafetensorsCodec.scaleSuffix) != nil { quantized += 1 }
        }
        // The file holds the dtype asked for, and companions only where a grid applies.
        let dt = o.dtype ?? T.dtype
        if let grid = QuantGrid(dt) {
            XCTAssertGreaterThan(quantized, 0, what)
            for p in 0..<net.params.count {
                let name = net.params.names[p], shape = net.params.values[p].shape
                let isQuantized = shape.count >= 2 || o.quantizeVectors
                XCTAssertEqual(file.info(name)?.dtype, isQuantized ? SafetensorsDType(dt) : SafetensorsDType(T.dtype), "\(what): \(name)")
                let scale = file.info(name + SafetensorsCodec.scaleSuffix)
                XCTAssertEqual(scale?.shape, isQuantized ? (shape.count >= 2 && o.granularity == .perChannel ? [shape[0]] : []) : nil, "\(what): \(name)")
                XCTAssertEqual(file.info(name + SafetensorsCodec.zeroPointSuffix) != nil, isQuantized && grid.isUnsigned, "\(what): \(name)")
            }
        } else {
            XCTAssertEqual(quantized, 0, what)
            XCTAssertTrue(file.tensors.allSatisfy { $0.dtype == SafetensorsDType(dt) }, what)
            XCTAssertEqual(file.tensors.count, net.params.count, what)
        }
        XCTAssertEqual(file.metadataValue(SafetensorsCodec.dtypeKey), dt.name, what)
    }

    /// The round trip of every reference network (every layer type, every nesting) in every one
    /// of the 13 dtypes, for f32 and f64 networks, bit for bit.
    func testEveryReferenceNetworkInEveryDType() throws {
        var checked = 0
        for dt in DType.allCases {
            let o = SafetensorsCodec.Options(dtype: dt)
            for c in ReferenceNetworks.cases(dtype: .f32) { try check(c, o, as: Float.self); checked += 1 }
            for c in ReferenceNetworks.cases(dtype: .f64) { try check(c, o, as: Double.self); checked += 1 }
        }
        XCTAssertEqual(checked, 13 * 2 * ReferenceNetworks.cases(dtype: .f32).count)
        XCTAssertGreaterThan(ReferenceNetworks.cases(dtype: .f32).count, 50)
    }

    /// The other quantization schemes: per tensor, and vectors quantized too.
    func testQuantizationSchemes() throws {
        for dt in DType.allCases where QuantGrid(dt) != nil {
            for o in [SafetensorsCodec.Options(dtype: dt, granularity: .perTensor),
                      SafetensorsCodec.Options(dtype: dt, quantizeVectors: true),
                      SafetensorsCodec.Options(dtype: dt, granularity: .perTensor, quantizeVectors: true)] {
                for c in ReferenceNetworks.cases(dtype: .f32) { try check(c, o, as: Float.self) }
                for c in ReferenceNetworks.cases(dtype: .f64).prefix(8) { try check(c, o, as: Double.self) }
            }
        }
    }

    /// The default stores the compute type bit for bit, also for networks executing in another
    /// dtype, and a dtype-executing network's IR survives.
    func testDefaultIsBitExactForEveryExecutionDType() throws {
        for dt in DType.allCases {
            for c in ReferenceNetworks.cases(dtype: dt).prefix(6) {
                if dt == .f64 { try check(c, SafetensorsCodec.Options(), as: Double.self) } else { try check(c, SafetensorsCodec.Options(), as: Float.self) }
            }
        }
    }

    func testQuantizedStorageFormat() throws {
        // A known matrix in u8, per channel: codes, scales and zero points as documented.
        let spec = NetworkSpec(name: "q", dtype: .f32, seed: 1, inputShape: [3],
                               layers: [.dense(units: 2, activation: .linear, bias: true)])
        let net = try Network<Float>(spec)
        try net.setParameter("layers.0.weight", Tensor(shape: [2, 3], data: [-1, 0, 2, 0.5, 1, 3]))
        let file = try Safetensors(bytes: SafetensorsCodec.encode(net, options: .init(dtype: .u8)))
        let codes = try XCTUnwrap(file.tensor("layers.0.weight"))
        XCTAssertEqual(codes.dtype, .u8)
        // Row 0: lo = −1, hi = 2, s = 3/255, z = 85; row 1: lo = 0, s = 3/255, z = 0.
        let s = 3.0 / 255
        let row1 = [0.5, 1, 3].map { UInt64(($0 / s).rounded(.toNearestOrEven)) }
        XCTAssertEqual((0..<6).map { codes.storageBits(at: $0) }, [0, 85, 255] + row1)
        XCTAssertEqual(row1[2], 255)
        XCTAssertEqual(file.tensor("layers.0.weight.__scale")?.doubles(), [3.0 / 255, 3.0 / 255])
        XCTAssertEqual(file.tensor("layers.0.weight.__zero_point")?.doubles(), [85, 0])
        XCTAssertEqual(file.info("layers.0.bias")?.dtype, .f32)
        XCTAssertNotNil(file.metadataValue(SafetensorsCodec.quantizationKey))
        // F4: the E2M1 values, scale = max|x| / 6.
        let f4 = try Safetensors(bytes: SafetensorsCodec.encode(net, options: .init(dtype: .f4, granularity: .perTensor)))
        XCTAssertEqual(f4.tensor("layers.0.weight")?.doubles(), [-2, 0, 4, 1, 2, 6])
        XCTAssertEqual(f4.tensor("layers.0.weight.__scale")?.doubles(), [0.5])
        XCTAssertEqual(f4.tensor("layers.0.weight.__scale")?.shape, [])
        XCTAssertNotNil(f4.metadataValue(SafetensorsWriter.f4MetadataKey))
    }

    /// A quantized file written elsewhere (signed codes with zero points, F32 scales) loads as
    /// scale · (code − zero point).
    func testLoadsForeignQuantizedTensors() throws {
        let spec = NetworkSpec(name: "q", dtype: .f64, seed: 1, inputShape: [2],
                               layers: [.dense(units: 2, activation: .linear, bias: false)])
        let net = try Network<Double>(spec)
        var w = SafetensorsWriter()
        try w.add("layers.0.weight", values: [-128, 127, 3, -4], shape: [2, 2], as: .i8)
        try w.add("layers.0.weight.__scale", values: [0.25, 2], shape: [2], as: .f32)
        try w.add("layers.0.weight.__zero_point", values: [-128, 1], shape: [2], as: .i8)
        try SafetensorsCodec.load(Safetensors(bytes: w.serialized()), into: net)
        XCTAssertEqual(net.params.values[0].data, [0, 63.75, 4, -10])
    }

    func testLoadErrors() throws {
        let spec = NetworkSpec(name: "e", dtype: .f32, seed: 1, inputShape: [3],
                               layers: [.dense(units: 2, activation: .tanh, bias: true), .dense(units: 1, activation: .linear, bias: true)])
        let net = try Network<Float>(spec)
        let before = net.params.bitHash
        func file(_ edit: (inout SafetensorsWriter) throws -> Void, skip: String? = nil, meta: Bool = true) throws -> Safetensors {
            var w = SafetensorsWriter(metadata: meta ? [(key: SafetensorsCodec.irKey, value: IREncoder.encode(spec).serialized())] : nil)
            for i in 0..<net.params.count where net.params.names[i] != skip {
                try w.add(net.params.names[i], values: net.params.values[i].data, shape: net.params.values[i].shape, as: .f32)
            }
            try edit(&w)
            return try Safetensors(bytes: w.serialized(), source: "e.safetensors")
        }
        let cases: [(String, Safetensors, LoomError.Kind, String, String)] = [
            ("missing", try file({ _ in }, skip: "layers.1.bias"), .invalidModel, "e.safetensors", "missing parameter \"layers.1.bias\""),
            ("unknown", try file({ try $0.add("layers.2.weight", values: [1.0], shape: [1], as: .f32) }), .invalidModel,
             "e.safetensors, tensor \"layers.2.weight\"", "no parameter of this name"),
            ("orphan scale", try file({ try $0.add("x.__scale", values: [1.0], shape: [], as: .f64) }), .invalidModel,
             "e.safetensors, tensor \"x.__scale\"", "no parameter of this name"),
            ("shape", try file({ try $0.add("layers.1.bias", values: [1.0, 2.0], shape: [2], as: .f32) }, skip: "layers.1.bias"), .shapeMismatch,
             "e.safetensors, tensor \"layers.1.bias\"", "has shape [2] in the file, the network expects [1]"),
            ("NaN", try file({ try $0.add("layers.1.bias", values: [Double.nan], shape: [1], as: .f64) }, skip: "layers.1.bias"), .nonFinite,
             "e.safetensors, tensor \"layers.1.bias\"", "not finite"),
            ("scale on floats", try file({ try $0.add("layers.1.bias.__scale", values: [2.0], shape: [], as: .f64) }), .invalidModel,
             "e.safetensors, tensor \"layers.1.bias\"", "only integer and F4 codes are scaled"),
            ("scale shape", try file({
                try $0.add("layers.0.weight", values: [Double](repeating: 1, count: 6), shape: [2, 3], as: .i8)
                try $0.add("layers.0.weight.__scale", values: [1.0, 1.0, 1.0], shape: [3], as: .f64)
            }, skip: "layers.0.weight"), .shapeMismatch, "e.safetensors, tensor \"layers.0.weight.__scale\"", "per output channel"),
            ("zero point dtype", try file({
                try $0.add("layers.0.weight", values: [Double](repeating: 1, count: 6), shape: [2, 3], as: .u8)
                try $0.add("layers.0.weight.__scale", values: [1.0], shape: [], as: .f64)
                try $0.add("layers.0.weight.__zero_point", values: [1.0], shape: [], as: .u16)
            }, skip: "layers.0.weight"), .invalidModel, "e.safetensors, tensor \"layers.0.weight.__zero_point\"", "dtype of its integer codes"),
            ("zero point alone", try file({ try $0.add("layers.1.bias.__zero_point", values: [1.0], shape: [], as: .u8) }), .invalidModel,
             "e.safetensors, tensor \"layers.1.bias.__zero_point\"", "without a scale"),
            ("bool scale", try file({
                try $0.add("layers.0.weight", values: [Double](repeating: 1, count: 6), shape: [2, 3], as: .i8)
                try $0.add("layers.0.weight.__scale", values: [1.0], shape: [], as: .bool)
            }, skip: "layers.0.weight"), .invalidModel, "e.safetensors, tensor \"layers.0.weight.__scale\"", "must be F64, F32, F16 or BF16"),
        ]
        for (what, f, kind, path, message) in cases {
            do {
                try SafetensorsCodec.load(f, into: net)
                XCTFail("\(what): no error")
            } catch {
                XCTAssertEqual(error.kind, kind, "\(what): \(error)")
                XCTAssertEqual(error.path, path, "\(what): \(error)")
                XCTAssertTrue(error.message.contains(message), "\(what): \(error)")
            }
            XCTAssertEqual(net.params.bitHash, before, "\(what): a failed load changed the network")
        }
        XCTAssertThrowsError(try AnyNetwork.load(safetensors: file({ _ in }, meta: false))) { e in
            XCTAssertTrue("\(e)".contains("has no loom.ir metadata"), "\(e)")
        }
        var bad = SafetensorsWriter(metadata: [(key: SafetensorsCodec.irKey, value: "{\"format\":\"loom\",\"version\":1,\"input\":{\"shape\":[3]},\"layers\":[{\"type\":\"dense\"}]}")])
        try bad.add("x", values: [1.0], shape: [1], as: .f32)
        XCTAssertThrowsError(try AnyNetwork.load(safetensors: Safetensors(bytes: bad.serialized(), source: "b.safetensors"))) { e in
            XCTAssertTrue("\(e)".contains("b.safetensors, __metadata__ \"loom.ir\", layers[0].units"), "\(e)")
        }
    }
}

private extension Float {
    init(bits64ToFloat b: UInt64) { self.init(bitPattern: UInt32(truncatingIfNeeded: b)) }
}
