import LoomCore

/// The sizes of a sliding window over a per-sample input `[C, L]` (rank 1) or `[C, H, W]`
/// (rank 2). Rank 1 is handled as rank 2 with height 1 and a window of height 1 (stride 1,
/// padding 0, dilation 1), which leaves every canonical order unchanged.
///
/// Output size per axis: `(in + 2·padding − dilation·(kernel − 1) − 1) / stride + 1` (floor),
/// as PyTorch's without `ceil_mode`. Output `(oy, ox)` reads input
/// `(oy·sh − ph + i·dh, ox·sw − pw + j·dw)` for window tap `(i, j)`; coordinates outside the
/// input are the padding.
public struct WindowGeometry: Sendable {
    public let rank: Int
    public let channels: Int, height: Int, width: Int
    public let kh: Int, kw: Int, sh: Int, sw: Int, ph: Int, pw: Int, dh: Int, dw: Int
    public let outH: Int, outW: Int

    public var inPlane: Int { height * width }
    public var outPlane: Int { outH * outW }
    public var taps: Int { kh * kw }

    /// One output size, or nil when the (dilated) window is larger than the padded input.
    /// All values are at most 2³¹ (checked by the Builder), so nothing overflows.
    static func outSize(_ n: Int, kernel k: Int, stride s: Int, padding p: Int, dilation d: Int) -> Int? {
        let span = d * (k - 1) + 1
        let padded = n + 2 * p
        guard span <= padded else { return nil }
        return (padded - span) / s + 1
    }

    /// `input` is `[C, L]` or `[C, H, W]`; the other arrays have one entry per spatial axis.
    /// Returns nil (with the failing axis) when the window does not fit.
    static func make(input: [Int], kernel: [Int], stride: [Int], padding: [Int], dilation: [Int])
        -> (geometry: WindowGeometry?, failingAxis: Int) {
        let rank = kernel.count
        let h = rank == 2 ? input[1] : 1
        let w = input[rank]
        let k0 = rank == 2 ? kernel[0] : 1, s0 = rank == 2 ? stride[0] : 1
        let p0 = rank == 2 ? padding[0] : 0, d0 = rank == 2 ? dilation[0] : 1
        let k1 = kernel[rank - 1], s1 = stride[rank - 1], p1 = padding[rank - 1], d1 = dilation[rank - 1]
        guard let oh = outSize(h, kernel: k0, stride: s0, padding: p0, dilation: d0) else { return (nil, 0) }
        guard let ow = outSize(w, kernel: k1, stride: s1, padding: p1, dilation: d1) else { return (nil, rank - 1) }
        return (WindowGeometry(rank: rank, channels: input[0], height: h, width: w, kh: k0, kw: k1, sh: s0, sw: s1,
                               ph: p0, pw: p1, dh: d0, dw: d1, outH: oh, outW: ow), 0)
    }

    /// The per-sample output shape for `channels` output channels.
    func outputShape(channels c: Int) -> [Int] { rank == 2 ? [c, outH, outW] : [c, outW] }

    /// The input row read by output row `oy` at tap row `i` (may lie in the padding).
    @inline(__always) func inY(_ oy: Int, _ i: Int) -> Int { oy * sh - ph + i * dh }
    @inline(__always) func inX(_ ox: Int, _ j: Int) -> Int { ox * sw - pw + j * dw }

    /// The taps `i` of output row `oy` that read an input row inside `0..<height` (input rows grow
    /// with i, so the taps in the padding are at the two ends).
    @inline(__always) func rowTaps(_ oy: Int) -> Range<Int> {
        Self.taps(base: oy * sh - ph, dilation: dh, kernel: kh, size: height)
    }

    /// The taps `j` of output column `ox` that read an input column inside `0..<width`.
    @inline(__always) func columnTaps(_ ox: Int) -> Range<Int> {
        Self.taps(base: ox * sw - pw, dilation: dw, kernel: kw, size: width)
    }

    @inline(__always) static func taps(base: Int, dilation d: Int, kernel k: Int, size n: Int) -> Range<Int> {
        var lo = 0, hi = k
        while lo < k && base + lo * d < 0 { lo += 1 }
        while hi > lo && base + (hi - 1) * d >= n { hi -= 1 }
        return lo..<hi
    }

    /// The outputs `ox` whose tap column `j` reads an input column inside `0..<width`.
    @inline(__always) func outXRange(_ j: Int) -> Range<Int> {
        let off = j * dw - pw
        let lo = off >= 0 ? 0 : (-off + sw - 1) / sw
        let last = width - 1 - off
        let hi = last < 0 ? 0 : Swift.min(outW, last / sw + 1)
        return lo < hi ? lo..<hi : 0..<0
    }

    /// The output row that reads input row `y` at tap row `i`, if any (the inverse of `inY`).
    @inline(__always) func outY(_ y: Int, _ i: Int) -> Int? {
        let t = y + ph - i * dh
        guard t >= 0, t % sh == 0 else { return nil }
        let o = t / sh
        return o < outH ? o : nil
    }

    @inline(__always) func outX(_ x: Int, _ j: Int) -> Int? {
        let t = x + pw - j * dw
        guard t >= 0, t % sw == 0 else { return nil }
        let o = t / sw
        return o < outW ? o : nil
    }
}
