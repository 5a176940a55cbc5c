/// The kmeans layer (`KMeansLayer`, `KMeansDistanceKernel`) over the element type `T` of
/// `LayerKernels`, compiled with them: forward and input gradient one thread per row, the center
/// gradient one thread per center element (its chain over rows in order). Distance codes:
/// 0 euclidean (squared), 1 manhattan, 2 cosine.
enum KMeansKernels {
    static let body = #"""

// KMeansDistanceKernel.norm: sqrt of the fma chain of v·v.
__device__ T loom_kmeans_norm(const T* v, long long n) {
    T acc = 0;
    for (long long j = 0; j < n; j++) acc = det_fma(v[j], v[j], acc);
    return det_sqrt_t(acc);
}

// KMeansDistanceKernel.distance (nx: x's norm, cosine only).
__device__ T loom_kmeans_distance(long long kind, const T* x, const T* c, long long n, T nx) {
    T acc = 0;
    if (kind == 0) {
        for (long long j = 0; j < n; j++) { const T d = x[j] - c[j]; acc = det_fma(d, d, acc); }
        return acc;
    }
    if (kind == 1) {
        for (long long j = 0; j < n; j++) acc = acc + fabs(x[j] - c[j]);
        return acc;
    }
    const T eps = (T)1e-8;
    for (long long j = 0; j < n; j++) acc = det_fma(x[j], c[j], acc);
    const T a = det_maximum_of(nx, eps), b = det_maximum_of(loom_kmeans_norm(c, n), eps);
    return (T)1 - acc / (a * b);
}

// KMeansDistanceKernel.gradients for one j: ∂d/∂x_j and ∂d/∂c_j (cosine: the pair's dot product and
// c's norm computed as the CPU computes them once per pair).
__device__ void loom_kmeans_gradient(long long kind, const T* x, const T* c, long long n, T nx, long long j, T* gx, T* gc) {
    if (kind == 0) { const T g = (T)2 * (x[j] - c[j]); *gx = g; *gc = -g; return; }
    if (kind == 1) {
        const T d = x[j] - c[j];
        const T g = d > 0 ? (T)1 : (d < 0 ? (T)-1 : (T)0);
        *gx = g; *gc = -g;
        return;
    }
    const T eps = (T)1e-8;
    T dot = 0;
    for (long long i = 0; i < n; i++) dot = det_fma(x[i], c[i], dot);
    const T nc = loom_kmeans_norm(c, n);
    const T a = det_maximum_of(nx, eps), b = det_maximum_of(nc, eps);
    const T ab = a * b, aa = a * a, bb = b * b;
    const T s = dot / ab;
    *gx = nx > eps ? (s * x[j]) / aa - c[j] / ab : -(c[j] / ab);
    *gc = nc > eps ? (s * c[j]) / bb - x[j] / ab : -(x[j] / ab);
}

// KMeansLayer.forward, one thread per row: ℓ_q = (−d_q)/τ (in `logits`), p = softmax(ℓ); y = p, or
// (features) y_j = fma chain over q of p_q·c_q[j].
extern "C" __global__ void loom_kmeans_forward(T* y, T* p, T* logits, const T* x, const T* c, long long rows, long long n, long long k,
                                               long long kind, long long features, T tau) {
    GRID_LOOP(r, rows) {
        const T* xi = x + r * n;
        T* l = logits + r * k;
        T* pr = p + r * k;
        const T nx = kind == 2 ? loom_kmeans_norm(xi, n) : (T)0;
        for (long long q = 0; q < k; q++) l[q] = -loom_kmeans_distance(kind, xi, c + q * n, n, nx) / tau;
        loom_softmax_group(l, pr, k, nullptr, 0, (T)1);
        if (features) {
            for (long long j = 0; j < n; j++) {
                T acc = 0;
                for (long long q = 0; q < k; q++) acc = det_fma(pr[q], c[q * n + j], acc);
                y[r * n + j] = acc;
            }
        } else {
            for (long long q = 0; q < k; q++) y[r * k + q] = pr[q];
        }
    }
}

// KMeansLayer.backward's input gradient, one thread per row: dp (features: fma chains of dy·c_q;
// else dy), g = (−softmax backward)/τ (kept for the centers), dx_j = fma chain over q of g_q·∂d_q/∂x_j;
// nxs[r] = x's norm (cosine). scratch: k per row.
extern "C" __global__ void loom_kmeans_backward(T* dx, T* g, T* nxs, T* scratch, const T* dy, const T* p, const T* x, const T* c,
                                                long long rows, long long n, long long k, long long kind, long long features, T tau) {
    GRID_LOOP(r, rows) {
        const T* pr = p + r * k;
        const T* xi = x + r * n;
        const T* dyi = dy + r * (features ? n : k);
        T* dp = scratch + r * k;
        T* gr = g + r * k;
        for (long long q = 0; q < k; q++) {
            if (features) {
                T acc = 0;
                for (long long j = 0; j < n; j++) acc = det_fma(dyi[j], c[q * n + j], acc);
                dp[q] = acc;
            } else {
                dp[q] = dyi[q];
            }
        }
        loom_softmax_group_backward(dp, pr, gr, k, 0, (T)1);
        for (long long q = 0; q < k; q++) gr[q] = -gr[q] / tau;
        const T nx = kind == 2 ? loom_kmeans_norm(xi, n) : (T)0;
        nxs[r] = nx;
        for (long long j = 0; j < n; j++) {
            T acc = 0;
            for (long long q = 0; q < k; q++) {
                T gx, gc;
                loom_kmeans_gradient(kind, xi, c + q * n, n, nx, j, &gx, &gc);
                acc = det_fma(gr[q], gx, acc);
            }
            dx[r * n + j] = acc;
        }
    }
}

// KMeansLayer.backward's center gradient, one thread per element (q, j), rows in order: features
// first dc = fma(p, dy_j, dc), then dc = fma(g, ∂d/∂c_j, dc).
extern "C" __global__ void loom_kmeans_center_grads(T* dc, const T* p, const T* g, const T* nxs, const T* x, const T* c, const T* dy,
                                                    long long rows, long long n, long long k, long long kind, long long features) {
    GRID_LOOP(e, k * n) {
        const long long q = e / n, j = e % n;
        T acc = dc[e];
        for (long long r = 0; r < rows; r++) {
            if (features) acc = det_fma(p[r * k + q], dy[r * n + j], acc);
            T gx, gc;
            loom_kmeans_gradient(kind, x + r * n, c + q * n, n, nxs[r], j, &gx, &gc);
            acc = det_fma(g[r * k + q], gc, acc);
        }
        dc[e] = acc;
    }
}
"""#
}
