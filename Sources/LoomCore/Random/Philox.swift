/// Philox4x32-10, a counter-based random generator (Salmon et al., SC'11).
///
/// A value is a pure function of (seed, stream, index): no hidden state, so any thread, backend
/// or binding can compute any value independently and the stream never depends on scheduling.
///
/// Canonical definitions:
/// - `uint32(stream:index:)` = lane `index % 4` of `block(counter: (lo32(index/4), hi32(index/4), lo32(stream), hi32(stream)))`.
/// - `uniformFloat` = `Float(u >> 8) · 2⁻²⁴` ∈ [0, 1), exact.
/// - `uniformDouble` = `Double((u(2i) << 21) ^ (u(2i+1) >> 11)) · 2⁻⁵³` built from two 32-bit
///   draws: the 53-bit integer `(hi << 21) | (lo >> 11)` where hi = value 2i, lo = value 2i+1.
public struct Philox: Sendable, Equatable {
    public let key0: UInt32
    public let key1: UInt32

    public init(seed: UInt64) {
        key0 = UInt32(truncatingIfNeeded: seed)
        key1 = UInt32(truncatingIfNeeded: seed >> 32)
    }

    @inline(__always)
    static func mulhilo(_ a: UInt32, _ b: UInt32) -> (hi: UInt32, lo: UInt32) {
        let p = UInt64(a) &* UInt64(b)
        return (UInt32(truncatingIfNeeded: p >> 32), UInt32(truncatingIfNeeded: p))
    }

    /// Ten Philox rounds over a 128-bit counter.
    public func block(_ c0: UInt32, _ c1: UInt32, _ c2: UInt32, _ c3: UInt32) -> (UInt32, UInt32, UInt32, UInt32) {
        var x0 = c0, x1 = c1, x2 = c2, x3 = c3
        var k0 = key0, k1 = key1
        for round in 0..<10 {
            if round > 0 { k0 = k0 &+ 0x9E37_79B9; k1 = k1 &+ 0xBB67_AE85 }
            let (h0, l0) = Philox.mulhilo(0xD251_1F53, x0)
            let (h1, l1) = Philox.mulhilo(0xCD9E_8D57, x2)
            x0 = h1 ^ x1 ^ k0
            x1 = l1
            x2 = h0 ^ x3 ^ k1
            x3 = l0
        }
        return (x0, x1, x2, x3)
    }

    public func uint32(stream: UInt64, index: UInt64) -> UInt32 {
        let q = index >> 2
        let r = block(UInt32(truncatingIfNeeded: q), UInt32(truncatingIfNeeded: q >> 32),
                      UInt32(truncatingIfNeeded: stream), UInt32(truncatingIfNeeded: stream >> 32))
        switch index & 3 {
        case 0: return r.0
        case 1: return r.1
        case 2: return r.2
        default: return r.3
        }
    }

    /// Uniform in [0, 1) with 24 random bits.
    public func uniformFloat(stream: UInt64, index: UInt64) -> Float {
        Float(uint32(stream: stream, index: index) >> 8) * (1.0 / 16_777_216.0)
    }

    /// Uniform in [0, 1) with 53 random bits (draws values 2·index and 2·index+1).
    public func uniformDouble(stream: UInt64, index: UInt64) -> Double {
        let hi = UInt64(uint32(stream: stream, index: 2 &* index))
        let lo = UInt64(uint32(stream: stream, index: 2 &* index &+ 1))
        let m = (hi << 21) | (lo >> 11)
        return Double(m) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// Uniform integer in 0..<bound (bound ≥ 1) by rejection of the biased tail: draws values
    /// index, index+1, … of the stream and returns the value and how many draws it used.
    public func uniformInt(_ bound: UInt32, stream: UInt64, index: UInt64) -> (value: UInt32, used: UInt64) {
        precondition(bound > 0)
        let limit = UInt32.max - (UInt32.max % bound)  // accept u < limit (limit is a multiple of bound)
        var i = index
        while true {
            let u = uint32(stream: stream, index: i)
            i &+= 1
            if u < limit || limit == 0 { return (u % bound, i &- index) }
        }
    }

    /// A permutation of 0..<n by Fisher–Yates (j from n−1 down to 1, swap with uniformInt(j+1)).
    public func permutation(_ n: Int, stream: UInt64) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        var cursor: UInt64 = 0
        var j = n - 1
        while j >= 1 {
            let (v, used) = uniformInt(UInt32(j + 1), stream: stream, index: cursor)
            cursor &+= used
            p.swapAt(j, Int(v))
            j -= 1
        }
        return p
    }
}

/// Names random streams: a 64-bit FNV-1a hash of a purpose string and numbers, so that e.g.
/// the initial value of `layers.3.weight` does not depend on which other layers exist.
public enum StreamID {
    public static func of(_ purpose: String, _ numbers: UInt64...) -> UInt64 {
        var h = BitHash()
        for b in purpose.utf8 { h.addByte(b) }
        for n in numbers { h.addUInt64(n) }
        return h.value
    }
}

/// Sequential draws from one Philox stream, for code that wants "the next number" (test data,
/// sampling loops). Value i of the sequence is `(u(2i) << 32) | u(2i+1)` of the stream.
public struct PhiloxSequence: Sendable {
    public let generator: Philox
    public let stream: UInt64
    public private(set) var position: UInt64 = 0

    public init(seed: UInt64, stream: UInt64 = 0) {
        generator = Philox(seed: seed)
        self.stream = stream
    }

    public mutating func next() -> UInt64 {
        let hi = UInt64(generator.uint32(stream: stream, index: 2 &* position))
        let lo = UInt64(generator.uint32(stream: stream, index: 2 &* position &+ 1))
        position &+= 1
        return (hi << 32) | lo
    }
}
