/// The rest of the softmax family (`Softmax+Family.swift`, `Softmax+Sparse.swift`) over the element
/// type `T` of `LayerKernels`, compiled with them: hierarchical, sparsemax, entmax,
/// adaptive and mixture, one thread per row walking the CPU kernel's canonical order (gumbel is the
/// standard kernel with a temperature after host-made noise). `scratch` holds per-row work space.
enum SoftmaxFamilyKernels {
    static let body = #"""

// The plain softmax of a group (no mask, no temperature) and its backward: LayerKernels' group functions.
#define loom_softmax_plain(x, y, n) loom_softmax_group(x, y, n, nullptr, 0, (T)1)
#define loom_softmax_plain_backward(dy, y, dx, n) loom_softmax_group_backward(dy, y, dx, n, 0, (T)1)

// HierarchicalSoftmax.forward: q (aux, every level's node probabilities) and y; scratch: n per row.
extern "C" __global__ void loom_hierarchical_forward(T* y, T* q, T* scratch, const T* x, const long long* levels, long long depth,
                                                     long long rows, long long n, long long auxWidth) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * n;
        T* yo = y + r * n;
        T* qo = q + r * auxWidth;
        T* s = scratch + r * n;
        long long nodes = 1, off = 0;
        for (long long l = 0; l < depth; l++) {
            const long long g = levels[l];
            nodes *= g;
            const long long size = n / nodes;
            for (long long u = 0; u < nodes; u++) {
                T acc = xi[u * size];
                if (size > 1) {
                    for (long long i = 1; i < size; i++) acc = acc + xi[u * size + i];
                    acc = acc / (T)size;
                }
                s[u] = acc;
            }
            for (long long p = 0; p < nodes / g; p++) loom_softmax_plain(s + p * g, qo + off + p * g, g);
            for (long long i = 0; i < n; i++) {
                const T qi = qo[off + i / size];
                yo[i] = l == 0 ? qi : yo[i] * qi;
            }
            off += nodes;
        }
    }
}

// HierarchicalSoftmax.backward; scratch: n per row.
extern "C" __global__ void loom_hierarchical_backward(T* dx, T* scratch, const T* dy, const T* y, const T* q, const long long* levels,
                                                      long long depth, long long rows, long long n, long long auxWidth) {
    GRID_LOOP(r, rows) {
        const T* g0 = dy + r * n;
        const T* yr = y + r * n;
        const T* qr = q + r * auxWidth;
        T* d = dx + r * n;
        T* ds = scratch + r * n;
        long long nodes = 1, off = 0;
        for (long long l = 0; l < depth; l++) {
            const long long g = levels[l];
            nodes *= g;
            const long long size = n / nodes;
            for (long long u = 0; u < nodes; u++) {
                T a = 0;
                for (long long i = u * size; i < u * size + size; i++) a = det_fma(g0[i], yr[i], a);
                ds[u] = a;
            }
            for (long long p = 0; p < nodes / g; p++) {
                T t = 0;
                for (long long j = 0; j < g; j++) t = t + ds[p * g + j];
                for (long long j = 0; j < g; j++) ds[p * g + j] = ds[p * g + j] - qr[off + p * g + j] * t;
            }
            const T div = (T)size;
            for (long long i = 0; i < n; i++) {
                const T v = size > 1 ? ds[i / size] / div : ds[i];
                d[i] = l == 0 ? v : d[i] + v;
            }
            off += nodes;
        }
    }
}

// Sparsemax.forward: the row sorted in descending order (scratch: n per row), one cumulative sum,
// the support size and τ; y = max(x − τ, 0).
extern "C" __global__ void loom_sparsemax_forward(T* y, T* scratch, const T* x, long long rows, long long n) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * n;
        T* z = scratch + r * n;
        for (long long i = 0; i < n; i++) {
            const T v = xi[i];
            long long j = i - 1;
            while (j >= 0 && z[j] < v) { z[j + 1] = z[j]; j--; }
            z[j + 1] = v;
        }
        T c = 0, cStar = 0;
        long long kStar = 1;
        for (long long k = 1; k <= n; k++) {
            c = c + z[k - 1];
            if ((T)1 + (T)k * z[k - 1] > c) { kStar = k; cStar = c; }
        }
        const T tau = (cStar - (T)1) / (T)kStar;
        for (long long i = 0; i < n; i++) {
            const T d = xi[i] - tau;
            y[r * n + i] = d > 0 ? d : (T)0;
        }
    }
}

// Sparsemax.backward.
extern "C" __global__ void loom_sparsemax_backward(T* dx, const T* dy, const T* y, long long rows, long long n) {
    GRID_LOOP(r, rows) {
        const T* g = dy + r * n;
        const T* yr = y + r * n;
        T s = 0;
        long long count = 0;
        for (long long i = 0; i < n; i++) if (yr[i] > 0) { s = s + g[i]; count++; }
        const T v = count > 0 ? s / (T)count : (T)0;
        for (long long i = 0; i < n; i++) dx[r * n + i] = yr[i] > 0 ? g[i] - v : (T)0;
    }
}

// Entmax.forward: mode 0 (α = 2: P(u) = u), 1 (α = 1.5: P(u) = u·u) or 2 (P(u) = pow(u, e));
// a = α − 1, e = 1/(α − 1), powN = n^(1−α) (each rounded to T on the host); 60 bisection steps.
extern "C" __global__ void loom_entmax_forward(T* y, const T* x, long long rows, long long n, long long mode, T a, T e, T powN) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * n;
        T* yo = y + r * n;
        T m = LOOM_NEG_INF;
        for (long long i = 0; i < n; i++) m = det_maximum_of(m, xi[i] * a);
        T lo = m - (T)1;
        T d = (m - powN) - lo;
        T sum = 0;
        for (int it = 0; it < 60; it++) {
            d = d / (T)2;
            const T t = lo + d;
            sum = 0;
            for (long long i = 0; i < n; i++) {
                const T u = xi[i] * a - t;
                const T p = u <= 0 ? (T)0 : (mode == 0 ? u : (mode == 1 ? u * u : det_pow_t(u, e)));
                yo[i] = p;
                sum = sum + p;
            }
            if (sum - (T)1 >= 0) lo = t;
        }
        for (long long i = 0; i < n; i++) yo[i] = yo[i] / sum;
    }
}

// Entmax.backward: the gate y^(2−α) on the support (1 for α = 2, sqrt(y) for α = 1.5, else
// pow(y, b) with b = 2 − α), 0 elsewhere.
__device__ __forceinline__ T loom_entmax_gate(T y, long long mode, T b) {
    if (!(y > 0)) return 0;
    return mode == 0 ? (T)1 : (mode == 1 ? det_sqrt_t(y) : det_pow_t(y, b));
}

extern "C" __global__ void loom_entmax_backward(T* dx, const T* dy, const T* y, long long rows, long long n, long long mode, T b) {
    GRID_LOOP(r, rows) {
        const T* g = dy + r * n;
        const T* yr = y + r * n;
        T sdy = 0, ss = 0;
        for (long long i = 0; i < n; i++) {
            const T s = loom_entmax_gate(yr[i], mode, b);
            sdy = det_fma(s, g[i], sdy);
            ss = ss + s;
        }
        const T q = sdy / ss;
        for (long long i = 0; i < n; i++) dx[r * n + i] = loom_entmax_gate(yr[i], mode, b) * (g[i] - q);
    }
}

// AdaptiveSoftmax.forward: a (aux, the input's width) holds q and every tail's r.
extern "C" __global__ void loom_adaptive_forward(T* y, T* a, const T* x, const long long* clusters, long long count, long long head,
                                                 long long rows, long long inW, long long outW) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * inW;
        T* ar = a + r * inW;
        T* yo = y + r * outW;
        const long long hw = head + count;
        loom_softmax_plain(xi, ar, hw);
        for (long long j = 0; j < head; j++) yo[j] = ar[j];
        long long inOff = hw, outOff = head;
        for (long long c = 0; c < count; c++) {
            const long long nc = clusters[c];
            loom_softmax_plain(xi + inOff, ar + inOff, nc);
            const T pc = ar[head + c];
            for (long long k = 0; k < nc; k++) yo[outOff + k] = pc * ar[inOff + k];
            inOff += nc; outOff += nc;
        }
    }
}

// AdaptiveSoftmax.backward; scratch: the head's width (dq) then the widest tail (dr), per row.
extern "C" __global__ void loom_adaptive_backward(T* dx, T* scratch, const T* dy, const T* a, const long long* clusters, long long count,
                                                  long long head, long long rows, long long inW, long long outW, long long scratchWidth) {
    GRID_LOOP(r, rows) {
        const T* g = dy + r * outW;
        const T* ar = a + r * inW;
        T* d = dx + r * inW;
        const long long hw = head + count;
        T* dq = scratch + r * scratchWidth;
        T* dr = dq + hw;
        for (long long j = 0; j < head; j++) dq[j] = g[j];
        long long inOff = hw, outOff = head;
        for (long long c = 0; c < count; c++) {
            const long long nc = clusters[c];
            T acc = 0;
            for (long long k = 0; k < nc; k++) acc = det_fma(g[outOff + k], ar[inOff + k], acc);
            dq[head + c] = acc;
            const T pc = ar[head + c];
            for (long long k = 0; k < nc; k++) dr[k] = g[outOff + k] * pc;
            loom_softmax_plain_backward(dr, ar + inOff, d + inOff, nc);
            inOff += nc; outOff += nc;
        }
        loom_softmax_plain_backward(dq, ar, d, hw);
    }
}

// MixtureSoftmax.forward: a (aux) = [s_0 … s_{K−1}, π]; y_v = fma chain over k of π_k·s_k[v].
extern "C" __global__ void loom_mixture_forward(T* y, T* a, const T* x, long long rows, long long k, long long v) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * (k * v + k);
        T* ar = a + r * (k * v + k);
        T* pi = ar + k * v;
        loom_softmax_plain(xi + k * v, pi, k);
        for (long long c = 0; c < k; c++) loom_softmax_plain(xi + c * v, ar + c * v, v);
        for (long long j = 0; j < v; j++) {
            T acc = 0;
            for (long long c = 0; c < k; c++) acc = det_fma(pi[c], ar[c * v + j], acc);
            y[r * v + j] = acc;
        }
    }
}

// MixtureSoftmax.backward; scratch: k (dπ) then v (ds) per row.
extern "C" __global__ void loom_mixture_backward(T* dx, T* scratch, const T* dy, const T* a, long long rows, long long k, long long v) {
    GRID_LOOP(r, rows) {
        const T* g = dy + r * v;
        const T* ar = a + r * (k * v + k);
        const T* pi = ar + k * v;
        T* d = dx + r * (k * v + k);
        T* dpi = scratch + r * (k + v);
        T* ds = dpi + k;
        for (long long c = 0; c < k; c++) {
            T acc = 0;
            for (long long j = 0; j < v; j++) acc = det_fma(g[j], ar[c * v + j], acc);
            dpi[c] = acc;
            for (long long j = 0; j < v; j++) ds[j] = pi[c] * g[j];
            loom_softmax_plain_backward(ds, ar + c * v, d + c * v, v);
        }
        loom_softmax_plain_backward(dpi, pi, d + k * v, k);
    }
}
"""#
}
