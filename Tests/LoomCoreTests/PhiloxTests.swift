import LoomCore
import XCTest

final class PhiloxTests: XCTestCase {
    /// Known-answer vectors of Philox4x32-10 (Random123's kat_vectors).
    func testKnownAnswers() {
        let zero = Philox(seed: 0).block(0, 0, 0, 0)
        XCTAssertEqual([zero.0, zero.1, zero.2, zero.3], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8])
        let ones = Philox(seed: 0xffff_ffff_ffff_ffff).block(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff)
        XCTAssertEqual([ones.0, ones.1, ones.2, ones.3], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd])
        // key words (k0, k1) = (0xa4093822, 0x299f31d0)
        let pi = Philox(seed: 0x299f_31d0_a409_3822).block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344)
        XCTAssertEqual([pi.0, pi.1, pi.2, pi.3], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1])
    }

    func testStreamsAreIndependentOfOrderAndLanesMatchBlocks() {
        let r = Philox(seed: 42)
        let b = r.block(1, 0, 7, 0)
        XCTAssertEqual([r.uint32(stream: 7, index: 4), r.uint32(stream: 7, index: 5), r.uint32(stream: 7, index: 6), r.uint32(stream: 7, index: 7)],
                       [b.0, b.1, b.2, b.3])
        let forward = (0..<100).map { r.uint32(stream: 3, index: UInt64($0)) }
        let backward = (0..<100).reversed().map { r.uint32(stream: 3, index: UInt64($0)) }.reversed()
        XCTAssertEqual(forward, Array(backward))
        XCTAssertNotEqual(r.uint32(stream: 3, index: 0), r.uint32(stream: 4, index: 0))
    }

    func testUniformsAreInRangeAndWellSpread() {
        let r = Philox(seed: 1)
        var sum = 0.0
        for i in 0..<100_000 {
            let f = r.uniformFloat(stream: 1, index: UInt64(i)), d = r.uniformDouble(stream: 2, index: UInt64(i))
            XCTAssertTrue(f >= 0 && f < 1 && d >= 0 && d < 1)
            sum += d
        }
        XCTAssertEqual(sum / 100_000, 0.5, accuracy: 0.005)
    }

    func testPermutationIsAPermutationAndSeeded() {
        let p = Philox(seed: 9).permutation(1000, stream: 5)
        XCTAssertEqual(p.sorted(), Array(0..<1000))
        XCTAssertEqual(p, Philox(seed: 9).permutation(1000, stream: 5))
        XCTAssertNotEqual(p, Philox(seed: 10).permutation(1000, stream: 5))
        XCTAssertNotEqual(p, Array(0..<1000))
    }

    func testBitHashIsFNV1a64AndCanonicalisesNaN() {
        var h = BitHash()
        h.addByte(UInt8(ascii: "a"))
        XCTAssertEqual(h.value, 0xaf63_dc4c_8601_ec8c)
        var a = BitHash(), b = BitHash()
        a.add(Float(bitPattern: 0x7FC0_0001))
        b.add(Float.nan)
        XCTAssertEqual(a, b)
        var c = BitHash(), d = BitHash()
        c.add(Float(0.0)); d.add(Float(-0.0))
        XCTAssertNotEqual(c, d, "signed zeros are different bits")
    }

    func testTensorChecksShapes() {
        XCTAssertThrowsError(try Tensor<Float>(shape: [2, 3], data: [1, 2, 3]))
        XCTAssertThrowsError(try Tensor<Float>(shape: [-1, 3], data: []))
        let t = try! Tensor<Float>(shape: [3, 2], data: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.gather(batch: [2, 0]).data, [5, 6, 1, 2])
        XCTAssertEqual(t.batchSlice(1..<2).data, [3, 4])
        XCTAssertEqual(t.rows, 3)
    }
}
