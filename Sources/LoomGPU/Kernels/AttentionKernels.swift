/// The attention layer's own kernels (after its projections), written over the element type `T`
/// of `LayerKernels` and compiled with them: RoPE (`RoPETable.rotate`, the host's table uploaded),
/// the KV-cache append, and the attention of one query (`AttentionKernel.forward`).
enum AttentionKernels {
    static let body = #"""

#ifndef LOOM_DYNAMIC_SHARED
#define LOOM_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

// RoPETable.rotate on rows of `heads` heads: row r uses table row r % n (position start + r % n).
// Pair p of head h: members (2p, 2p+1) interleaved, else (p, p + D/2).
extern "C" __global__ void loom_rope(T* a, const T* cosT, const T* sinT, long long rows, long long n, long long heads,
                                     long long headDim, long long interleaved, long long inverse) {
    const long long half = headDim / 2;
    GRID_LOOP(i, rows * heads * half) {
        const long long p = i % half, h = (i / half) % heads, r = i / (half * heads);
        const long long ia = interleaved ? 2 * p : p, ib = interleaved ? 2 * p + 1 : p + half;
        T* base = a + r * heads * headDim + h * headDim;
        const T c = cosT[(r % n) * half + p], s = sinT[(r % n) * half + p];
        const T x1 = base[ia], x2 = base[ib];
        if (inverse) {
            base[ia] = det_fma(x1, c, x2 * s);
            base[ib] = det_fma(x2, c, -(x1 * s));
        } else {
            base[ia] = det_fma(x1, c, -(x2 * s));
            base[ib] = det_fma(x2, c, x1 * s);
        }
    }
}

// AttentionLayer.forward with a KV cache: keys and values of positions start..<start+n go to
// rows start + t of each batch row's [capacity, kvw] cache.
extern "C" __global__ void loom_kv_append(T* keys, T* values, const T* k, const T* v, long long batch, long long n,
                                          long long capacity, long long start, long long kvw) {
    GRID_LOOP(i, batch * n * kvw) {
        const long long c = i % kvw, t = (i / kvw) % n, b = i / (kvw * n);
        const long long dst = (b * capacity + start + t) * kvw + c;
        keys[dst] = k[i];
        values[dst] = v[i];
    }
}

// acc = +0, then acc = fma(a[j·as], b[j·bs], acc) for j = 0..<n: the canonical dot-product chain,
// eight operand pairs loaded before their fmas (the chain waits for memory once per eight).
__device__ __forceinline__ T loom_fma_chain(const T* a, long long as, const T* b, long long bs, long long n) {
    T acc = 0;
    long long j = 0;
    for (; j + 8 <= n; j += 8) {
        T x[8], y[8];
        #pragma unroll
        for (int u = 0; u < 8; u++) { x[u] = a[(j + u) * as]; y[u] = b[(j + u) * bs]; }
        #pragma unroll
        for (int u = 0; u < 8; u++) acc = det_fma(x[u], y[u], acc);
    }
    for (; j < n; j++) acc = det_fma(a[j * as], b[j * bs], acc);
    return acc;
}

// AttentionKernel.forward, one block per (batch row, query t, head h): query t (position start + t)
// sees keys 0..<L, L = the valid length (or start + n), capped at start + t + 1 when causal. Scores
// s_j = (fma chain over i of q_i·k_{j,i} from +0)·scale (threads over j); m = max in key order;
// e_j = exp(s_j − m); Σ in key order; p_j = e_j / Σ; o_i = fma chain over j of p_j·v_{j,i} from +0
// (threads over i), each a `loom_fma_chain`. Scores live in dynamic
// shared memory (scoreStride values) when `scores` is null, else scoreStride values per block
// there; `probs` (null: not kept) is [batch, heads, n, n] with zeros past L.
// (Staging keys and values through shared memory in chunks measured slower for decoding: more
// barriers and round trips for a single query.)
extern "C" __global__ void loom_attention_forward(T* out, T* scores, T* probs, const T* q, const T* k, const T* v,
                                                  const int* valid, long long batch, long long n, long long heads,
                                                  long long group, long long d, long long batchStride, long long start,
                                                  long long causal, long long scoreStride, T scale) {
    LOOM_DYNAMIC_SHARED(T, attention_scores);
    __shared__ T shared_m, shared_sum;
    const long long kvw = heads / group * d, qw = heads * d;
    for (long long job = blockIdx.x; job < batch * n * heads; job += gridDim.x) {
        const long long h = job % heads, row = job / heads, t = row % n, bi = row / n;
        long long L = valid ? (long long)valid[bi] : start + n;
        if (causal && start + t + 1 < L) L = start + t + 1;
        const T* qt = q + row * qw + h * d;
        const T* kb = k + bi * batchStride + (h / group) * d;
        const T* vb = v + bi * batchStride + (h / group) * d;
        T* s = scores ? scores + job * scoreStride : attention_scores;
        for (long long j = threadIdx.x; j < L; j += blockDim.x) {
            s[j] = loom_fma_chain(qt, 1, kb + j * kvw, 1, d) * scale;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            T m = LOOM_NEG_INF;
            for (long long j = 0; j < L; j++) m = det_maximum_of(m, s[j]);
            shared_m = m;
        }
        __syncthreads();
        const T m = shared_m;
        for (long long j = threadIdx.x; j < L; j += blockDim.x) s[j] = det_exp_t(s[j] - m);
        __syncthreads();
        if (threadIdx.x == 0) {
            T sum = 0;
            for (long long j = 0; j < L; j++) sum = sum + s[j];
            shared_sum = sum;
        }
        __syncthreads();
        const T sum = shared_sum;
        for (long long j = threadIdx.x; j < L; j += blockDim.x) s[j] = s[j] / sum;
        __syncthreads();
        if (probs) {
            T* pr = probs + ((bi * heads + h) * n + t) * n;
            for (long long j = threadIdx.x; j < n; j += blockDim.x) pr[j] = j < L ? s[j] : (T)0;
        }
        T* ot = out + row * qw + h * d;
        for (long long i = threadIdx.x; i < d; i += blockDim.x) ot[i] = loom_fma_chain(s, 1, vb + i, kvw, L);
        __syncthreads();
    }
}

// AttentionKernel.backward for one (batch row, query t, head h) per block (full sequences, so
// L = t + 1 when causal, else n): dP_j = fma chain over i of dO_i·v_{j,i} (threads over j);
// c = fma chain over j of dP_j·p_j (key order); dS_j = (p_j·(dP_j − c))·scale, kept in `ds`
// [batch, heads, n, n] (zeros past L); dQ_i = fma chain over j of dS_j·k_{j,i} (threads over i).
extern "C" __global__ void loom_attention_backward_queries(T* dq, T* ds, const T* q, const T* k, const T* v, const T* probs,
                                                           const T* dO, long long batch, long long n, long long heads,
                                                           long long group, long long d, long long causal, T scale) {
    __shared__ T shared_c;
    const long long kvw = heads / group * d, qw = heads * d;
    for (long long job = blockIdx.x; job < batch * n * heads; job += gridDim.x) {
        const long long h = job % heads, row = job / heads, t = row % n, bi = row / n;
        const long long L = causal ? t + 1 : n;
        const T* dot = dO + row * qw + h * d;
        const T* kb = k + bi * n * kvw + (h / group) * d;
        const T* vb = v + bi * n * kvw + (h / group) * d;
        const T* pt = probs + ((bi * heads + h) * n + t) * n;
        T* dst = ds + ((bi * heads + h) * n + t) * n;
        for (long long j = threadIdx.x; j < n; j += blockDim.x) {
            if (j >= L) { dst[j] = 0; continue; }
            const T* vj = vb + j * kvw;
            T acc = 0;
            for (long long i = 0; i < d; i++) acc = det_fma(dot[i], vj[i], acc);
            dst[j] = acc;
        }
        __syncthreads();
        if (threadIdx.x == 0) {
            T c = 0;
            for (long long j = 0; j < L; j++) c = det_fma(dst[j], pt[j], c);
            shared_c = c;
        }
        __syncthreads();
        const T c = shared_c;
        for (long long j = threadIdx.x; j < L; j += blockDim.x) dst[j] = (pt[j] * (dst[j] - c)) * scale;
        __syncthreads();
        T* dqt = dq + row * qw + h * d;
        for (long long i = threadIdx.x; i < d; i += blockDim.x) {
            T acc = 0;
            for (long long j = 0; j < L; j++) acc = det_fma(dst[j], kb[j * kvw + i], acc);
            dqt[i] = acc;
        }
        __syncthreads();
    }
}

// AttentionKernel.backward's key and value gradients, one thread per (batch row, key j, column):
// fma chains over the kv head's query heads ascending, then queries t ascending with j < L_t, of
// dS·q_i (dK) and p·dO_i (dV), from +0.
extern "C" __global__ void loom_attention_backward_keys(T* dk, T* dv, const T* q, const T* probs, const T* ds, const T* dO,
                                                        long long batch, long long n, long long heads, long long group,
                                                        long long d, long long causal, T scale) {
    const long long kvw = heads / group * d, qw = heads * d;
    GRID_LOOP(idx, batch * n * kvw) {
        const long long col = idx % kvw, j = (idx / kvw) % n, bi = idx / (kvw * n);
        const long long g = col / d, i = col % d;
        T gk = 0, gv = 0;
        for (long long hh = 0; hh < group; hh++) {
            const long long h = g * group + hh;
            for (long long t = causal ? j : 0; t < n; t++) {
                const long long at = ((bi * heads + h) * n + t) * n + j;
                const long long qi = (bi * n + t) * qw + h * d + i;
                gk = det_fma(ds[at], q[qi], gk);
                gv = det_fma(probs[at], dO[qi], gv);
            }
        }
        dk[idx] = gk;
        dv[idx] = gv;
    }
}
"""#
}
