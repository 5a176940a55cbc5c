import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// Quantized execution's kernels (`IntegerProductKernels`), emulated on the CPU, against
/// `QuantizedRows` and `IntegerGemm` bit for bit, on every grid (the eight integer types and f4),
/// in f32 and f64: row quantization (codes, scales, read-back values; contiguous rows and the
/// strided rows of conv's patches; an all-zero row and an all-positive row), and the integer
/// product with a bias start and from +0 (Int64 sums for ≤ 16 bits and f4, 256-bit for 32 and 64).
final class QuantizedExecutionEmulationTests: XCTestCase {
    static let grids: [DType] = [.i8, .u8, .i16, .u16, .i32, .u32, .i64, .u64, .f4]

    func check<T: LoomFloat>(_: T.Type) throws {
        let rows = 5, cols = 37, outs = 7
        var x: [T] = Init.uniform([rows, cols], bound: 3, seed: 11, name: "x").data
        for c in 0..<cols { x[2 * cols + c] = 0; x[3 * cols + c] = x[3 * cols + c].magnitude }
        let xt = (0..<(rows * cols)).map { i in x[(i % rows) * cols + i / rows] }   // [cols, rows]: row r at stride rows
        let w: [T] = Init.uniform([outs, cols], bound: 0.5, seed: 12, name: "w").data
        let bias: [T] = Init.uniform([rows, outs], bound: 1, seed: 13, name: "b").data
        let element: GemmKernel.Element = T.self == Double.self ? .f64 : .f32
        let ctx = SerialContext()
        var jobs = [CUDAEmulator.Job]()
        var expected = [(codes: [Int64], scales: [Double], values: [T], product: [T], fromZero: [T])]()
        for dt in QuantizedExecutionEmulationTests.grids {
            let grid = QuantGrid(dt)!
            let qx = x.withUnsafeBufferPointer { QuantizedRows(ctx, $0.baseAddress!, rows: rows, cols: cols, rowStride: cols, colStride: 1, grid: grid) }
            let qw = w.withUnsafeBufferPointer { QuantizedRows(ctx, $0.baseAddress!, rows: outs, cols: cols, rowStride: cols, colStride: 1, grid: grid) }
            var product = bias, fromZero = [T](repeating: 0, count: rows * outs)
            product.withUnsafeMutableBufferPointer { IntegerGemm.run(ctx, x: qx, w: qw, c: $0.baseAddress!, rsC: outs, csC: 1) }
            fromZero.withUnsafeMutableBufferPointer { IntegerGemm.run(ctx, x: qx, w: qw, c: $0.baseAddress!, rsC: outs, csC: 1) }
            expected.append((qx.codes, qx.scales, qx.dequantized(as: T.self), product, fromZero))
            let kind = CUDAEmulator.Argument.int(IntegerProductKernels.kind(grid)), qmax = CUDAEmulator.Argument.double(grid.qmax)
            for (input, rs, cs) in [(x, cols, 1), (xt, 1, rows)] {
                jobs.append(CUDAEmulator.Job(kernel: "loom_quantize_rows", grid: (2, 1), threads: 4, arguments: [
                    .output(bytes: rows * cols * 8), .output(bytes: rows * 8), .output(bytes: input.count * MemoryLayout<T>.stride),
                    .input(CUDAEmulator.bytes(input)), .int(rows), .int(cols), .int(rs), .int(cs), kind, qmax]))
            }
            for (start, accumulate) in [(bias, 1), ([T](repeating: 7, count: rows * outs), 0)] {
                jobs.append(CUDAEmulator.Job(kernel: "loom_integer_product", grid: (2, 1), threads: 8, arguments: [
                    .readWrite(CUDAEmulator.bytes(start)), .int(outs), .int(1),
                    .input(CUDAEmulator.bytes(qx.codes)), .input(CUDAEmulator.bytes(qx.scales)),
                    .input(CUDAEmulator.bytes(qw.codes)), .input(CUDAEmulator.bytes(qw.scales)),
                    .int(rows), .int(outs), .int(cols), .int(grid.isNarrow ? 1 : 0), .int(accumulate)]))
            }
        }
        let out = try CUDAEmulator.run(LayerKernels.source(element), jobs)
        guard out.count == jobs.count else { return XCTFail("\(out.count) results") }
        for (g, dt) in QuantizedExecutionEmulationTests.grids.enumerated() {
            let e = expected[g], name = "\(T.dtype.name) \(dt.name)"
            for (v, strided) in [false, true].enumerated() {
                let r = out[4 * g + v]
                XCTAssertEqual(CUDAEmulator.values(r[0], as: Int64.self), e.codes, "\(name) codes (strided \(strided))")
                XCTAssertEqual(CUDAEmulator.values(r[1], as: Double.self).map(\.bitPattern), e.scales.map(\.bitPattern), "\(name) scales")
                var values = CUDAEmulator.values(r[2], as: T.self)
                if strided { values = (0..<(rows * cols)).map { i in values[(i % cols) * rows + i / cols] } }
                XCTAssertEqual(values.map(\.bits64), e.values.map(\.bits64), "\(name) read-back values (strided \(strided))")
            }
            XCTAssertEqual(CUDAEmulator.values(out[4 * g + 2][0], as: T.self).map(\.bits64), e.product.map(\.bits64), "\(name) product")
            XCTAssertEqual(CUDAEmulator.values(out[4 * g + 3][0], as: T.self).map(\.bits64), e.fromZero.map(\.bits64), "\(name) product from +0")
            // The codes use the grid's range (not a degenerate test): some reach ±qmax's neighbourhood.
            let big = e.codes.map { Double($0.magnitude) }.max()!
            XCTAssertGreaterThan(big, QuantGrid(dt)!.qmax * (dt == .f4 ? 1.5 : 0.4), name)
        }
    }

    func testQuantizationAndIntegerProductsEqualTheCPU() throws {
        try check(Float.self)
        try check(Double.self)
    }
}
