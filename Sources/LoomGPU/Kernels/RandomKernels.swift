/// Philox4x32-10 (`Philox`) in CUDA C, and the layers' training randomness made with it on the
/// device: dropout's mask (`DropoutLayer.mask`) and gumbel's noise (`GumbelNoise`), each element a
/// pure function of (seed, stream, index) as on the CPU. Compiled with `LayerKernels`.
enum RandomKernels {
    static let body = #"""

// Philox.block: ten rounds over the counter (c0, c1, c2, c3) with the key (k0, k1).
__device__ __forceinline__ void loom_philox_block(unsigned k0, unsigned k1, unsigned* x) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
        const unsigned long long p0 = (unsigned long long)0xD2511F53u * x[0], p1 = (unsigned long long)0xCD9E8D57u * x[2];
        const unsigned h0 = (unsigned)(p0 >> 32), l0 = (unsigned)p0, h1 = (unsigned)(p1 >> 32), l1 = (unsigned)p1;
        const unsigned y0 = h1 ^ x[1] ^ k0, y2 = h0 ^ x[3] ^ k1;
        x[0] = y0; x[1] = l1; x[2] = y2; x[3] = l0;
    }
}

// Philox.uint32(stream:index:): lane index % 4 of the block of counter (index / 4, stream).
__device__ __forceinline__ unsigned loom_philox_uint32(unsigned k0, unsigned k1, unsigned long long stream, unsigned long long index) {
    const unsigned long long q = index >> 2;
    unsigned x[4] = {(unsigned)q, (unsigned)(q >> 32), (unsigned)stream, (unsigned)(stream >> 32)};
    loom_philox_block(k0, k1, x);
    return x[index & 3];
}

// DropoutLayer.mask: element i is kept (scale) when Philox.uniformFloat(stream, i) ≥ rate, else 0.
extern "C" __global__ void loom_dropout_mask(T* mask, long long n, long long key0, long long key1, long long stream, float rate, T scale) {
    GRID_LOOP(i, n) {
        const float u = __fmul_rn((float)(loom_philox_uint32((unsigned)key0, (unsigned)key1, (unsigned long long)stream, (unsigned long long)i) >> 8),
                                  5.9604644775390625e-8f);
        mask[i] = u >= rate ? scale : (T)0;
    }
}

// GumbelNoise.add: y[i] = x[i] + T(g), g = −log(−log u), u = (⌊u₀·2⁵²⌋ + 0.5)·2⁻⁵², u₀ = Philox.uniformDouble(stream, i).
extern "C" __global__ void loom_gumbel_add(T* y, const T* x, long long n, long long key0, long long key1, long long stream) {
    GRID_LOOP(i, n) {
        const unsigned long long hi = loom_philox_uint32((unsigned)key0, (unsigned)key1, (unsigned long long)stream, 2ULL * i);
        const unsigned long long lo = loom_philox_uint32((unsigned)key0, (unsigned)key1, (unsigned long long)stream, 2ULL * i + 1);
        const double u0 = __dmul_rn((double)((hi << 21) | (lo >> 11)), 0x1p-53);
        const double u = __dmul_rn(__dadd_rn(floor(__dmul_rn(u0, 4503599627370496.0)), 0.5), 0x1p-52);
        const double g = -det_log(-det_log(u));
        y[i] = x[i] + (T)g;
    }
}
"""#
}
