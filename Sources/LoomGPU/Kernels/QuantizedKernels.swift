import LoomCore

/// The GGUF integer products on the device, as CUDA C: the 8-bit activation blocks of
/// `GGUFQ8Activations` and the per-type dot products of `GGUFDot` (docs/gguf.md). Each repeats the
/// Swift definition operation for operation: exact integer block sums, then the per-block scale
/// products and fused multiply-adds in block order from +0. Only the integer sums of one block are
/// spread over threads (they are exact in any order); each output's float chain is one thread's.
public enum QuantizedKernels {
    /// The types with a device kernel (every type with an integer dot on the CPU).
    public static let types: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K]

    /// The dot kernel of `type`.
    public static func dotKernel(_ type: GGMLType) -> String { "loom_gguf_dot_" + type.name.lowercased() }

    /// Output rows one block computes (one warp each): launch 32 × this many threads per block.
    public static let warpsPerBlock = 8

    public static let source: String = #"""
typedef unsigned char u8;
#define QGRID_LOOP(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

// GGUFBlocks.halfToFloat: exact, subnormals as f · 2^-24.
__device__ __forceinline__ float loom_half(const u8* p) {
    const unsigned h = (unsigned)p[0] | ((unsigned)p[1] << 8);
    const unsigned sign = (h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, f = h & 0x3ffu;
    if (e == 0x1fu) return __int_as_float((int)(sign | 0x7f800000u | (f << 13) | (f != 0 ? 0x400000u : 0u)));
    if (e != 0) return __int_as_float((int)(sign | ((e + 112u) << 23) | (f << 13)));
    if (f == 0) return __int_as_float((int)sign);
    const float v = __fmul_rn((float)f, 5.9604644775390625e-8f);
    return __int_as_float((int)(sign | (unsigned)__float_as_int(v)));
}

__device__ __forceinline__ unsigned loom_le32(const u8* p) {
    return (unsigned)p[0] | ((unsigned)p[1] << 8) | ((unsigned)p[2] << 16) | ((unsigned)p[3] << 24);
}

// GGUFQ8Activations, one warp per block of 32 values (blocks counted over all rows), lane i holding
// value i: lane 0 finds amax (exact in any order) and the scale; each lane rounds its own code;
// lane 0 adds the codes (exact integers). Launch with 32 threads per block of values, at most 256
// per thread block.
extern "C" __global__ void loom_q8_quantize(signed char* codes, float* scales, int* sums, const float* x, long long blocks) {
    __shared__ float mags[8][32];
    __shared__ int ints[8][32];
    __shared__ float scale[8];
    const int lane = threadIdx.x % 32, wp = threadIdx.x / 32;
    const long long perBlock = blockDim.x / 32;
    for (long long b = blockIdx.x * perBlock + wp; b < blocks; b += (long long)gridDim.x * perBlock) {
        const float v = x[b * 32 + lane];
        mags[wp][lane] = __int_as_float(__float_as_int(v) & 0x7fffffff);
        ints[wp][lane] = (__float_as_int(v) & 0x7f800000) == 0x7f800000;
        __syncwarp();
        if (lane == 0) {
            float amax = 0.0f;
            bool finite = true;
            for (int i = 0; i < 32; i++) {
                if (ints[wp][i]) finite = false;
                if (mags[wp][i] > amax) amax = mags[wp][i];
            }
            const float d = finite ? __fdiv_rn(amax, 127.0f) : __int_as_float(0x7fc00000);
            scale[wp] = d;
            scales[b] = d;
        }
        __syncwarp();
        const float d = scale[wp];
        int c = 0;
        if (d == d && d != 0.0f) {
            float q = rintf(__fdiv_rn(v, d));
            q = q > 127.0f ? 127.0f : (q < -127.0f ? -127.0f : q);
            c = (int)q;
        }
        codes[b * 32 + lane] = (signed char)c;
        ints[wp][lane] = c;
        __syncwarp();
        if (lane == 0) {
            int s = 0;
            for (int i = 0; i < 32; i++) s += ints[wp][i];
            sums[b] = s;
        }
        __syncwarp();
    }
}

// One activation block's terms of the chain: acc = fma(v0, f0, acc), then (two terms) fma(v1, f1, acc).
struct loom_terms { float v0, f0, v1, f1; };

__device__ __forceinline__ int loom_nibbles(const u8* qs, const signed char* a) {
    int isum = 0;
    for (int j = 0; j < 16; j++) {
        const int x = qs[j];
        isum += (x & 15) * a[j] + (x >> 4) * a[j + 16];
    }
    return isum;
}

__device__ __forceinline__ int loom_q5_sum(const u8* qs, unsigned qh, const signed char* a) {
    int isum = 0;
    for (int j = 0; j < 16; j++) {
        const unsigned x = qs[j];
        const unsigned lo = (x & 15u) | (((qh >> j) & 1u) << 4);
        const unsigned hi = (x >> 4) | (((qh >> (j + 16)) & 1u) << 4);
        isum += (int)lo * a[j] + (int)hi * a[j + 16];
    }
    return isum;
}

// GGUFBlocks.kScaleMin
__device__ __forceinline__ void loom_k_scale_min(const u8* s, int j, int* sc, int* mn) {
    if (j < 4) { *sc = s[j] & 63; *mn = s[j + 4] & 63; return; }
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *mn = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
}

#define LOOM_Q8_0 0
#define LOOM_Q4_0 1
#define LOOM_Q4_1 2
#define LOOM_Q5_0 3
#define LOOM_Q5_1 4
#define LOOM_Q4_K 5
#define LOOM_Q5_K 6
#define LOOM_Q6_K 7

// GGUFDot.row, the terms of activation block b (a: its 32 codes, da: its scale, sa: its code sum).
template <int TYPE>
__device__ __forceinline__ loom_terms loom_block_terms(const u8* w, long long b, const signed char* a, float da, int sa) {
    loom_terms t = {0.0f, 0.0f, 0.0f, 0.0f};
    if (TYPE == LOOM_Q8_0) {
        const u8* p = w + 34 * b;
        int isum = 0;
        for (int i = 0; i < 32; i++) isum += (int)(signed char)p[2 + i] * a[i];
        t.v0 = (float)isum; t.f0 = __fmul_rn(loom_half(p), da);
    } else if (TYPE == LOOM_Q4_0) {
        const u8* p = w + 18 * b;
        t.v0 = (float)(loom_nibbles(p + 2, a) - 8 * sa); t.f0 = __fmul_rn(loom_half(p), da);
    } else if (TYPE == LOOM_Q4_1) {
        const u8* p = w + 20 * b;
        t.v0 = (float)loom_nibbles(p + 4, a); t.f0 = __fmul_rn(loom_half(p), da);
        t.v1 = (float)sa; t.f1 = __fmul_rn(loom_half(p + 2), da);
    } else if (TYPE == LOOM_Q5_0) {
        const u8* p = w + 22 * b;
        t.v0 = (float)(loom_q5_sum(p + 6, loom_le32(p + 2), a) - 16 * sa); t.f0 = __fmul_rn(loom_half(p), da);
    } else if (TYPE == LOOM_Q5_1) {
        const u8* p = w + 24 * b;
        t.v0 = (float)loom_q5_sum(p + 8, loom_le32(p + 4), a); t.f0 = __fmul_rn(loom_half(p), da);
        t.v1 = (float)sa; t.f1 = __fmul_rn(loom_half(p + 2), da);
    } else if (TYPE == LOOM_Q4_K || TYPE == LOOM_Q5_K) {
        const bool five = TYPE == LOOM_Q5_K;
        const long long sb = b / 8;
        const int j = (int)(b % 8);
        const u8* p = w + (five ? 176 : 144) * sb;
        const u8* qs = p + (five ? 48 : 16);
        const u8* qh = p + 16;
        int sc, mn;
        loom_k_scale_min(p + 4, j, &sc, &mn);
        const u8* q = qs + 32 * (j >> 1);
        const int shift = (j & 1) ? 4 : 0;
        int isum = 0;
        for (int l = 0; l < 32; l++) {
            int c = (q[l] >> shift) & 15;
            if (five) c |= ((qh[l] >> j) & 1) << 4;
            isum += c * a[l];
        }
        t.v0 = (float)(sc * isum); t.f0 = __fmul_rn(loom_half(p), da);
        t.v1 = (float)(0 - mn * sa); t.f1 = __fmul_rn(loom_half(p + 2), da);
    } else {
        const long long sb = b / 8;
        const int tt = (int)(b % 8), h = tt / 4, k = tt % 4;
        const u8* p = w + 210 * sb;
        const u8* src = p + 64 * h + 32 * (k & 1);
        const u8* qh = p + 128 + 32 * h;
        const int shift = k < 2 ? 0 : 4;
        int s0 = 0, s1 = 0;
        for (int l = 0; l < 32; l++) {
            const int lo = (src[l] >> shift) & 15;
            const int hi = (qh[l] >> (2 * k)) & 3;
            const int prod = ((lo | (hi << 4)) - 32) * a[l];
            if (l < 16) s0 += prod; else s1 += prod;
        }
        const int sc0 = (signed char)p[192 + 2 * tt], sc1 = (signed char)p[193 + 2 * tt];
        t.v0 = (float)(sc0 * s0 + sc1 * s1); t.f0 = __fmul_rn(loom_half(p + 208), da);
    }
    return t;
}

// y[r, o] = (accumulate ? y[r, o] : +0) + (row o of W) · (activation row r), as
// `Execution.externalProduct`. One warp per output: its lanes take 32 blocks at a time and stage
// their terms; lane 0 adds them to the chain in block order.
template <int TYPE, bool TWO>
__device__ void loom_gguf_dot(float* y, const u8* w, long long rowBytes, long long rows, long long outF, long long cols,
                              const signed char* codes, const float* scales, const int* sums, long long accumulate) {
    __shared__ loom_terms stage[8][32];
    const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    const long long nb = cols / 32;
    for (long long job = blockIdx.x * 8LL + warp; job < rows * outF; job += gridDim.x * 8LL) {
        const long long r = job / outF, o = job % outF;
        const u8* wr = w + o * rowBytes;
        const signed char* qa = codes + r * cols;
        const float* da = scales + r * nb;
        const int* sa = sums + r * nb;
        float acc = 0.0f;
        for (long long b0 = 0; b0 < nb; b0 += 32) {
            const long long b = b0 + lane;
            loom_terms t = {0.0f, 0.0f, 0.0f, 0.0f};
            if (b < nb) t = loom_block_terms<TYPE>(wr, b, qa + 32 * b, da[b], sa[b]);
            stage[warp][lane] = t;
            __syncwarp();
            if (lane == 0) {
                const int m = nb - b0 < 32 ? (int)(nb - b0) : 32;
                for (int j = 0; j < m; j++) {
                    acc = __fmaf_rn(stage[warp][j].v0, stage[warp][j].f0, acc);
                    if (TWO) acc = __fmaf_rn(stage[warp][j].v1, stage[warp][j].f1, acc);
                }
            }
            __syncwarp();
        }
        if (lane == 0) {
            const long long i = r * outF + o;
            y[i] = __fadd_rn(accumulate ? y[i] : 0.0f, acc);
        }
    }
}

#define LOOM_DOT_KERNEL(name, TYPE, TWO) \
extern "C" __global__ void name(float* y, const u8* w, long long rowBytes, long long rows, long long outF, long long cols, \
                                const signed char* codes, const float* scales, const int* sums, long long accumulate) { \
    loom_gguf_dot<TYPE, TWO>(y, w, rowBytes, rows, outF, cols, codes, scales, sums, accumulate); \
}
LOOM_DOT_KERNEL(loom_gguf_dot_q8_0, LOOM_Q8_0, false)
LOOM_DOT_KERNEL(loom_gguf_dot_q4_0, LOOM_Q4_0, false)
LOOM_DOT_KERNEL(loom_gguf_dot_q4_1, LOOM_Q4_1, true)
LOOM_DOT_KERNEL(loom_gguf_dot_q5_0, LOOM_Q5_0, false)
LOOM_DOT_KERNEL(loom_gguf_dot_q5_1, LOOM_Q5_1, true)
LOOM_DOT_KERNEL(loom_gguf_dot_q4_k, LOOM_Q4_K, true)
LOOM_DOT_KERNEL(loom_gguf_dot_q5_k, LOOM_Q5_K, true)
LOOM_DOT_KERNEL(loom_gguf_dot_q6_k, LOOM_Q6_K, false)
"""#
}
