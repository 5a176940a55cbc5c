import XCTest
import LoomCore
import LoomNN
import LoomGPU

/// Philox on the device (`RandomKernels`), emulated on the CPU, against the layers' own randomness:
/// dropout's mask (`DropoutLayer.mask`) and gumbel's noise (`SoftmaxLayer.gumbelNoise`), in f32
/// and f64, over a thousand elements (250 Philox blocks), with a seed that fills both key words.
final class RandomEmulationTests: XCTestCase {
    func check<T: LoomFloat>(_: T.Type) throws {
        let n = 1000, seed: UInt64 = 0x1234_5678_9ABC_DEF0, step: UInt64 = 7
        let spec = NetworkSpec(name: "r", dtype: T.dtype, seed: seed, inputShape: [n],
                               layers: [.dropout(rate: 0.3), .softmax(.gumbel(temperature: 0.5))])
        let net = try Network<T>(spec)
        let drop = net.root.layers[0] as! DropoutLayer<T>, gumbel = net.root.layers[1] as! SoftmaxLayer<T>
        let x: [T] = Init.uniform([n], bound: 2, seed: 3, name: "x").data
        let p = Philox(seed: seed)
        func arg(_ v: T) -> CUDAEmulator.Argument { T.self == Double.self ? .double(v.double) : .float(Float(v.double)) }
        let element: GemmKernel.Element = T.self == Double.self ? .f64 : .f32
        let out = try CUDAEmulator.run(LayerKernels.source(element), [
            CUDAEmulator.Job(kernel: "loom_dropout_mask", grid: (2, 1), threads: 32, arguments: [
                .output(bytes: n * MemoryLayout<T>.stride), .int(n), .int(Int(p.key0)), .int(Int(p.key1)),
                .int(Int(bitPattern: UInt(drop.maskStream(step: step)))), .float(Float(drop.rate)), arg(drop.scale)]),
            CUDAEmulator.Job(kernel: "loom_gumbel_add", grid: (2, 1), threads: 32, arguments: [
                .output(bytes: n * MemoryLayout<T>.stride), .input(CUDAEmulator.bytes(x)), .int(n), .int(Int(p.key0)), .int(Int(p.key1)),
                .int(Int(bitPattern: UInt(gumbel.noiseStream(step: step))))])])
        guard out.count == 2 else { return XCTFail("\(T.dtype.name): \(out.count) results") }
        let mask = CUDAEmulator.values(out[0][0], as: T.self), noisy = CUDAEmulator.values(out[1][0], as: T.self)
        let expected = drop.mask(count: n, seed: seed, step: step)
        XCTAssertEqual(mask.map(\.bits64), expected.map(\.bits64), "\(T.dtype.name) dropout mask")
        XCTAssertTrue(expected.contains(0) && expected.contains(drop.scale), "both kept and dropped elements")
        let noise = gumbel.gumbelNoise(count: n, seed: seed, step: step)
        XCTAssertEqual(noisy.map(\.bits64), zip(x, noise).map { ($0 + $1).bits64 }, "\(T.dtype.name) gumbel noise")
    }

    func testDropoutMaskAndGumbelNoiseEqualTheLayers() throws {
        try check(Float.self)
        try check(Double.self)
    }
}
