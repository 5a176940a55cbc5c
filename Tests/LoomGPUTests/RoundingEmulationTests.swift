import XCTest
import LoomCore
import LoomGPU

/// Rounded execution's kernels (`RoundingKernels`), emulated on the CPU: the f16 and bf16 round
/// trips against `DType.roundTrip` bit for bit, over every binary32 exponent with the fractions
/// that decide a rounding (ties, just below and above them, carries into the exponent and up to
/// infinity, subnormals of both formats), both signs, infinities and NaNs with payloads; and
/// f16 loss scaling's test for a non-finite gradient.
final class RoundingEmulationTests: XCTestCase {
    static let inputs: [Float] = {
        let fractions: [UInt32] = [0, 1, 0x0FFF, 0x1000, 0x1001, 0x1FFF, 0x2000, 0x3000, 0x7FFF, 0x8000, 0x8001,
                                   0x18000, 0x7FE000, 0x7FEFFF, 0x7FF000, 0x7FFFFF, 0x400000, 0x3FF000]
        var bits = [UInt32]()
        for e in UInt32(0)...255 { for f in fractions { bits.append(e << 23 | f) } }
        // Around f16's largest finite value (65504) and its overflow point (65520), and its subnormals.
        bits += [0x477F_E000, 0x477F_EFFF, 0x477F_F000, 0x477F_F001, 0x3380_0000, 0x3300_0000, 0x3300_0001, 0x3280_0000]
        return (bits + bits.map { $0 | 0x8000_0000 }).map { Float(bitPattern: $0) }
    }()

    func testRoundTripsEqualDType() throws {
        let xs = RoundingEmulationTests.inputs, n = xs.count
        let jobs = [DType.f16, .bf16].map { dt in
            CUDAEmulator.Job(kernel: "loom_round_elements", grid: (4, 1), threads: 64, arguments: [
                .output(bytes: n * 4), .input(CUDAEmulator.bytes(xs)), .int(n), .int(RoundingKernels.code(dt))])
        }
        let out = try CUDAEmulator.run(LayerKernels.source(.f32), jobs)
        guard out.count == 2 else { return XCTFail("\(out.count) results") }
        for (j, dt) in [DType.f16, .bf16].enumerated() {
            let got = CUDAEmulator.values(out[j][0], as: Float.self)
            let expected = xs.map { DType.roundTrip($0, through: dt) }
            let wrong = (0..<n).filter { got[$0].bitPattern != expected[$0].bitPattern }
            XCTAssertEqual(wrong.count, 0, "\(dt.name): \(wrong.count) of \(n) differ, first x=\(wrong.first.map { String(xs[$0].bitPattern, radix: 16) } ?? "-")")
            // The inputs reach every kind of result: rounding changed values, infinities, NaN, zeros.
            XCTAssertTrue(expected.contains { $0.isInfinite } && expected.contains { $0.isNaN } && expected.contains { $0 == 0 })
            XCTAssertGreaterThan(zip(xs, expected).filter { $0.0.bitPattern != $0.1.bitPattern && !$0.0.isNaN }.count, n / 4)
        }
    }

    func testNonFiniteFlag() throws {
        var g = [Float](repeating: 0.5, count: 1000)
        func job(_ values: [Float]) -> CUDAEmulator.Job {
            CUDAEmulator.Job(kernel: "loom_flag_nonfinite", grid: (2, 1), threads: 64, arguments: [
                .readWrite(CUDAEmulator.bytes([Int32(0)])), .input(CUDAEmulator.bytes(values)), .int(values.count)])
        }
        var cases: [[Float]] = [g]
        g[777] = .infinity; cases.append(g)
        g[777] = -.nan; cases.append(g)
        let out = try CUDAEmulator.run(LayerKernels.source(.f32), cases.map(job))
        XCTAssertEqual(out.map { CUDAEmulator.values($0[0], as: Int32.self) }, [[0], [1], [1]])
    }
}
