import LoomCore

/// The CUDA C kernels of the layers' data movement and fixed-order sums, for one element type:
/// bias broadcasts, bias-gradient sums, im2col/col2im, the channel-major transposes, pooling and
/// softmax, layer/RMS norm, embedding, the clip norm's partial sums, attention (`AttentionKernels`), the recurrent cells (`RecurrentKernels`), the rest of the softmax family (`SoftmaxFamilyKernels`), kmeans (`KMeansKernels`), the training randomness (`RandomKernels`), rounded execution (`RoundingKernels`) and quantized execution (`IntegerProductKernels`). Each repeats its CPU layer's canonical order (named in each
/// kernel's comment); parallelism is only across elements whose chains are independent.
public enum LayerKernels {
    public static func source(_ element: GemmKernel.Element) -> String {
        DetMathCUDA.source + "typedef \(element.rawValue) T;\n" + body + AttentionKernels.body + RecurrentKernels.body + SoftmaxFamilyKernels.body
            + KMeansKernels.body + RandomKernels.body + RoundingKernels.body + IntegerProductKernels.body
    }

    /// Geometry arguments of the window kernels, in the order the kernels declare them.
    static let body = #"""
#define LOOM_NEG_INF ((T)__int_as_float(0xff800000))
#define GRID_LOOP(i, n) for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < (n); i += (long long)gridDim.x * blockDim.x)

// Projection.forward: y[r, o] = b[o] before the product accumulates.
extern "C" __global__ void loom_fill_rows(T* y, const T* b, long long rows, long long cols) {
    GRID_LOOP(i, rows * cols) y[i] = b[i % cols];
}

// PositionEmbeddingLayer.forward (row r of a batch of n positions adds table row start + r % n)
// and BiasLayer.forward (n = 1, start = 0: every row adds the bias): y = x + table[…] (one rounding).
extern "C" __global__ void loom_add_table_rows(T* y, const T* x, const T* table, long long rows, long long n, long long start,
                                               long long d) {
    GRID_LOOP(i, rows * d) y[i] = x[i] + table[(start + (i / d) % n) * d + i % d];
}

// PositionEmbeddingLayer.backward: dP[start + t, c] += g[b, t, c] for b ascending (a thread per (t, c)).
extern "C" __global__ void loom_position_grads(T* dp, const T* g, long long batch, long long n, long long start, long long d) {
    GRID_LOOP(i, n * d) {
        const long long t = i / d, c = i % d;
        T s = dp[(start + t) * d + c];
        for (long long b = 0; b < batch; b++) s = s + g[(b * n + t) * d + c];
        dp[(start + t) * d + c] = s;
    }
}

// ConvLayer.forward: acc[o, k] = b[o] for the [F, B·P] accumulator.
extern "C" __global__ void loom_fill_channels(T* acc, const T* b, long long channels, long long width) {
    GRID_LOOP(i, channels * width) acc[i] = b[i / width];
}

// Projection.paramGrads: db[o] += g[r, o] for rows r in order (one thread per column; eight rows'
// values are loaded before they are added, so the chain waits for memory once per eight).
extern "C" __global__ void loom_column_sums(T* db, const T* g, long long rows, long long cols) {
    GRID_LOOP(o, cols) {
        T s = db[o];
        long long r = 0;
        for (; r + 8 <= rows; r += 8) {
            T v[8];
            #pragma unroll
            for (int u = 0; u < 8; u++) v[u] = g[(r + u) * cols + o];
            #pragma unroll
            for (int u = 0; u < 8; u++) s = s + v[u];
        }
        for (; r < rows; r++) s = s + g[r * cols + o];
        db[o] = s;
    }
}

// The lanes of a warp copy row[k0 ..< min(k0 + 256, n)] into `stage` (coalesced loads), then wait
// for each other.
__device__ __forceinline__ void loom_warp_stage(T* stage, const T* row, long long k0, long long n, int lane) {
    #pragma unroll
    for (int u = 0; u < 8; u++) {
        const long long k = k0 + u * 32 + lane;
        if (k < n) stage[u * 32 + lane] = row[k];
    }
    __syncwarp();
}

// ConvLayer.backward: db[o] += g[o, k] for k in order. One warp per row: the lanes stage 256
// values at a time in shared memory (coalesced loads), lane 0 adds them in order. Launch with
// 32 threads per row, 256 per block.
extern "C" __global__ void loom_row_sums(T* db, const T* g, long long rows, long long cols) {
    __shared__ T stage[8][256];
    const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
    for (long long o = blockIdx.x * 8LL + w; o < rows; o += (long long)gridDim.x * 8) {
        const T* row = g + o * cols;
        T s = lane == 0 ? db[o] : (T)0;
        for (long long k0 = 0; k0 < cols; k0 += 256) {
            loom_warp_stage(stage[w], row, k0, cols, lane);
            if (lane == 0) {
                const int n = (int)(cols - k0 < 256 ? cols - k0 : 256);
                #pragma unroll 16
                for (int u = 0; u < n; u++) s = s + stage[w][u];
            }
            __syncwarp();
        }
        if (lane == 0) db[o] = s;
    }
}

#define GEO long long batch, long long C, long long H, long long W, long long KH, long long KW, long long SH, long long SW, \
            long long PH, long long PW, long long DH, long long DW, long long OH, long long OW

// ConvLayer.im2col: col[(c, i, j), (b, oy, ox)] = x[b, c, oy·sh − ph + i·dh, ox·sw − pw + j·dw], +0 in the padding.
extern "C" __global__ void loom_im2col(T* col, const T* x, GEO) {
    const long long P = OH * OW, bp = batch * P, rowsK = C * KH * KW;
    GRID_LOOP(e, rowsK * bp) {
        long long r = e / bp, q = e % bp;
        long long b = q / P, p = q % P, oy = p / OW, ox = p % OW;
        long long c = r / (KH * KW), i = (r / KW) % KH, j = r % KW;
        long long y = oy * SH - PH + i * DH, xx = ox * SW - PW + j * DW;
        T v = 0;
        if (y >= 0 && y < H && xx >= 0 && xx < W) v = x[((b * C + c) * H + y) * W + xx];
        col[e] = v;
    }
}

// ConvLayer.col2im as the gather of its doc comment: dx[b, c, y, x] = +0 + dcol(tap (0,0)) + … over
// the taps (i, j) in row-major order that reach (y, x); dcol is [(c, i, j), (b, p)] for all samples.
extern "C" __global__ void loom_col2im(T* dx, const T* dcol, GEO) {
    const long long P = OH * OW, bp = batch * P;
    GRID_LOOP(e, batch * C * H * W) {
        long long xx = e % W, y = (e / W) % H, c = (e / (W * H)) % C, b = e / (W * H * C);
        T acc = 0;
        for (long long i = 0; i < KH; i++) {
            long long ty = y + PH - i * DH;
            if (ty < 0 || ty % SH != 0) continue;
            long long oy = ty / SH;
            if (oy >= OH) continue;
            for (long long j = 0; j < KW; j++) {
                long long tx = xx + PW - j * DW;
                if (tx < 0 || tx % SW != 0) continue;
                long long ox = tx / SW;
                if (ox >= OW) continue;
                acc = acc + dcol[((c * KH + i) * KW + j) * bp + b * P + oy * OW + ox];
            }
        }
        dx[e] = acc;
    }
}

// ConvLayer.toBatchMajor: [F, B·P] → [B, F, P]; toChannelMajor is its inverse.
extern "C" __global__ void loom_to_batch_major(T* out, const T* a, long long batch, long long channels, long long plane) {
    GRID_LOOP(e, batch * channels * plane) {
        long long p = e % plane, c = (e / plane) % channels, b = e / (plane * channels);
        out[e] = a[(c * batch + b) * plane + p];
    }
}
extern "C" __global__ void loom_to_channel_major(T* out, const T* a, long long batch, long long channels, long long plane) {
    GRID_LOOP(e, batch * channels * plane) {
        long long p = e % plane, b = (e / plane) % batch, c = e / (plane * batch);
        out[e] = a[(b * channels + c) * plane + p];
    }
}

// PoolLayer.argmax: the first maximal tap in row-major order (a NaN wins, a later NaN over an earlier one).
__device__ long long loom_pool_argmax(const T* plane, long long oy, long long ox, long long H, long long W, long long KH, long long KW,
                                      long long SH, long long SW, long long PH, long long PW, long long DH, long long DW) {
    T m = LOOM_NEG_INF; long long best = -1;
    for (long long i = 0; i < KH; i++) {
        long long y = oy * SH - PH + i * DH;
        if (y < 0 || y >= H) continue;
        for (long long j = 0; j < KW; j++) {
            long long x = ox * SW - PW + j * DW;
            if (x < 0 || x >= W) continue;
            T v = plane[y * W + x];
            if (best < 0 || v > m || isnan(v)) { m = v; best = y * W + x; }
        }
    }
    return best;
}

// PoolLayer.forward (C here counts planes = batch·channels; batch is unused).
extern "C" __global__ void loom_pool_forward(T* out, const T* x, long long isMax, GEO) {
    const long long P = OH * OW;
    const T divisor = (T)(KH * KW);
    GRID_LOOP(e, C * P) {
        long long pl = e / P, oy = (e % P) / OW, ox = e % OW;
        const T* plane = x + pl * H * W;
        if (isMax) {
            long long k = loom_pool_argmax(plane, oy, ox, H, W, KH, KW, SH, SW, PH, PW, DH, DW);
            out[e] = k >= 0 ? plane[k] : LOOM_NEG_INF;
            continue;
        }
        T acc = 0;
        for (long long i = 0; i < KH; i++) {
            long long y = oy * SH - PH + i * DH;
            if (y < 0 || y >= H) continue;
            for (long long j = 0; j < KW; j++) {
                long long xx = ox * SW - PW + j * DW;
                if (xx >= 0 && xx < W) acc = acc + plane[y * W + xx];
            }
        }
        out[e] = acc / divisor;
    }
}

// PoolLayer.backward: one thread per plane visits the outputs in row-major order (dx holds +0).
extern "C" __global__ void loom_pool_backward(T* dx, const T* dy, const T* x, long long isMax, GEO) {
    const long long P = OH * OW;
    const T divisor = (T)(KH * KW);
    GRID_LOOP(pl, C) {
        T* d = dx + pl * H * W;
        const T* g = dy + pl * P;
        for (long long oy = 0; oy < OH; oy++) {
            for (long long ox = 0; ox < OW; ox++) {
                T v = g[oy * OW + ox];
                if (isMax) {
                    long long k = loom_pool_argmax(x + pl * H * W, oy, ox, H, W, KH, KW, SH, SW, PH, PW, DH, DW);
                    if (k >= 0) d[k] = d[k] + v;
                    continue;
                }
                T share = v / divisor;
                for (long long i = 0; i < KH; i++) {
                    long long y = oy * SH - PH + i * DH;
                    if (y < 0 || y >= H) continue;
                    for (long long j = 0; j < KW; j++) {
                        long long xx = ox * SW - PW + j * DW;
                        if (xx >= 0 && xx < W) d[y * W + xx] = d[y * W + xx] + share;
                    }
                }
            }
        }
    }
}

// GlobalAvgPoolLayer: y[r] = (+0 + x[r, 0] + … ) / S; backward dx[r, k] = dy[r] / S.
extern "C" __global__ void loom_global_avg_forward(T* y, const T* x, long long rows, long long S) {
    GRID_LOOP(r, rows) {
        T acc = 0;
        for (long long k = 0; k < S; k++) acc = acc + x[r * S + k];
        y[r] = acc / (T)S;
    }
}
extern "C" __global__ void loom_global_avg_backward(T* dx, const T* dy, long long rows, long long S) {
    GRID_LOOP(e, rows * S) dx[e] = dy[e / S] / (T)S;
}

// SoftmaxKernel.forward of one group of n: `mask` (null: none) per feature; z = x / temp when
// hasTemp; m = max z over unmasked entries in order; e = exp(z − m) (masked: 0); Σ in order; y = e / Σ.
__device__ void loom_softmax_group(const T* xi, T* yo, long long n, const unsigned char* mask, long long hasTemp, T temp) {
    T m = LOOM_NEG_INF;
    for (long long i = 0; i < n; i++) {
        if (mask && !mask[i]) continue;
        const T z = hasTemp ? xi[i] / temp : xi[i];
        m = det_maximum_of(m, z);
    }
    T s = 0;
    for (long long i = 0; i < n; i++) {
        if (mask && !mask[i]) { yo[i] = 0; continue; }
        const T z = hasTemp ? xi[i] / temp : xi[i];
        const T e = det_exp_t(z - m);
        yo[i] = e;
        s = s + e;
    }
    for (long long i = 0; i < n; i++) yo[i] = yo[i] / s;
}

// SoftmaxKernel.backward of one group: c = fma-chain of dy·y; dx = y·(dy − c), then / temp.
__device__ void loom_softmax_group_backward(const T* d, const T* yi, T* dx, long long n, long long hasTemp, T temp) {
    T c = 0;
    for (long long i = 0; i < n; i++) c = det_fma(d[i], yi[i], c);
    for (long long i = 0; i < n; i++) {
        const T v = yi[i] * (d[i] - c);
        dx[i] = hasTemp ? v / temp : v;
    }
}

// SoftmaxKernel.forward, one thread per group.
extern "C" __global__ void loom_softmax_forward(T* y, const T* x, const unsigned char* mask, long long groups, long long n,
                                                long long hasTemp, T temp) {
    GRID_LOOP(g, groups) loom_softmax_group(x + g * n, y + g * n, n, mask, hasTemp, temp);
}

// SoftmaxKernel.backward, one thread per group.
extern "C" __global__ void loom_softmax_backward(T* dx, const T* dy, const T* y, long long groups, long long n,
                                                 long long hasTemp, T temp) {
    GRID_LOOP(g, groups) loom_softmax_group_backward(dy + g * n, y + g * n, dx + g * n, n, hasTemp, temp);
}

// NormLayer.forward (rms: no mean; w, b may be null). One warp per row: the lanes stage 256 values
// at a time in shared memory (coalesced loads) and lane 0 runs the row's chains in feature order
// (Σ x, then Σ (x − mean)² as fmas); then the lanes write x̂ and y, one feature each. Launch with 32
// threads per row, at most 256 per block.
extern "C" __global__ void loom_norm_forward(T* y, T* xhat, T* rstd, const T* x, const T* w, const T* b, long long rows,
                                             long long f, long long rms, T eps) {
    __shared__ T stage[8][256];
    __shared__ T stats[8][2];
    const int lane = threadIdx.x % 32, wp = threadIdx.x / 32;
    const long long perBlock = blockDim.x / 32;
    const T fT = (T)f;
    for (long long r = blockIdx.x * perBlock + wp; r < rows; r += (long long)gridDim.x * perBlock) {
        const T* xi = x + r * f;
        T mean = 0;
        for (int pass = rms ? 1 : 0; pass < 2; pass++) {
            T acc = 0;
            for (long long k0 = 0; k0 < f; k0 += 256) {
                loom_warp_stage(stage[wp], xi, k0, f, lane);
                if (lane == 0) {
                    // Eight values read ahead of their operations (shared-memory latency once per eight).
                    const long long m = f - k0 < 256 ? f - k0 : 256;
                    long long j = 0;
                    for (; j + 8 <= m; j += 8) {
                        T a[8];
                        #pragma unroll
                        for (int u = 0; u < 8; u++) a[u] = stage[wp][j + u];
                        #pragma unroll
                        for (int u = 0; u < 8; u++) {
                            if (pass == 0) acc = acc + a[u];
                            else { const T d = a[u] - mean; acc = det_fma(d, d, acc); }
                        }
                    }
                    for (; j < m; j++) {
                        if (pass == 0) acc = acc + stage[wp][j];
                        else { const T d = stage[wp][j] - mean; acc = det_fma(d, d, acc); }
                    }
                }
                __syncwarp();
            }
            if (lane == 0) stats[wp][pass] = pass == 0 ? acc / fT : (T)1 / det_sqrt_t(acc / fT + eps);
            __syncwarp();
            if (pass == 0) mean = stats[wp][0];
        }
        const T rr = stats[wp][1];
        if (lane == 0) rstd[r] = rr;
        // Four features per lane at a time, their loads issued before the stores.
        for (long long i0 = lane; i0 < f; i0 += 128) {
            T xv[4], wv[4], bv[4];
            #pragma unroll
            for (int u = 0; u < 4; u++) {
                const long long i = i0 + 32 * u;
                xv[u] = i < f ? xi[i] : (T)0;
                wv[u] = w && i < f ? w[i] : (T)0;
                bv[u] = b && i < f ? b[i] : (T)0;
            }
            #pragma unroll
            for (int u = 0; u < 4; u++) {
                const long long i = i0 + 32 * u;
                if (i >= f) break;
                const T h = (xv[u] - mean) * rr;
                xhat[r * f + i] = h;
                y[r * f + i] = w ? (b ? det_fma(h, wv[u], bv[u]) : h * wv[u]) : h;
            }
        }
        __syncwarp();
    }
}

// NormLayer.backward (dx): one thread per row.
extern "C" __global__ void loom_norm_backward(T* dx, const T* dy, const T* xhat, const T* rstd, const T* w, long long rows,
                                              long long f, long long rms) {
    const T fT = (T)f;
    GRID_LOOP(r, rows) {
        const T* g = dy + r * f;
        const T* xh = xhat + r * f;
        T m1 = 0, m2 = 0;
        for (long long i = 0; i < f; i++) {
            const T gh = w ? g[i] * w[i] : g[i];
            m1 = m1 + gh;
            m2 = det_fma(gh, xh[i], m2);
        }
        m1 = m1 / fT;
        m2 = m2 / fT;
        for (long long i = 0; i < f; i++) {
            const T gh = w ? g[i] * w[i] : g[i];
            dx[r * f + i] = rms ? rstd[r] * (gh - xh[i] * m2) : rstd[r] * ((gh - m1) - xh[i] * m2);
        }
    }
}

// NormLayer.backward (dw): dw[i] += fma-chain over rows of dy·x̂ (one thread per column).
extern "C" __global__ void loom_column_dots(T* dw, const T* g, const T* xhat, long long rows, long long f) {
    GRID_LOOP(i, f) {
        T acc = dw[i];
        for (long long r = 0; r < rows; r++) acc = det_fma(g[r * f + i], xhat[r * f + i], acc);
        dw[i] = acc;
    }
}

// EmbeddingLayer: y[r] = W[id_r] (ids checked on the host); backward dW[id_r] += dy[r] for rows in
// order (one thread per column).
extern "C" __global__ void loom_embedding_forward(T* y, const T* ids, const T* w, long long count, long long dim) {
    GRID_LOOP(e, count * dim) y[e] = w[(long long)ids[e / dim] * dim + e % dim];
}
extern "C" __global__ void loom_embedding_backward(T* dw, const T* dy, const T* ids, long long count, long long dim) {
    GRID_LOOP(d, dim) {
        for (long long r = 0; r < count; r++) {
            const long long k = (long long)ids[r] * dim + d;
            dw[k] = dw[k] + dy[r * dim + d];
        }
    }
}

// ParallelLayer concat / grid_scatter: a branch's [rows, w] into columns offset..<offset+w of
// [rows, total] (toWide), or back out of them.
extern "C" __global__ void loom_copy_columns(T* dst, const T* src, long long rows, long long w, long long total,
                                             long long offset, long long toWide) {
    GRID_LOOP(e, rows * w) {
        const long long r = e / w, j = e % w;
        if (toWide) dst[r * total + offset + j] = src[e]; else dst[e] = src[r * total + offset + j];
    }
}

// ParallelLayer filter: y[r, j] = fma(g[r, i], b_i[r, j], y[r, j]) for branch i (y from +0, branches in order).
extern "C" __global__ void loom_filter_accumulate(T* y, const T* g, const T* b, long long rows, long long width,
                                                  long long n, long long i) {
    GRID_LOOP(k, rows * width) y[k] = det_fma(g[(k / width) * n + i], b[k], y[k]);
}

// ParallelLayer filter backward, branch i: gb[k] = dy[k]·g[r, i]; dg[r, i] = fma-chain over j of dy·b_i.
extern "C" __global__ void loom_filter_branch_grad(T* gb, T* dg, const T* dy, const T* g, const T* b, long long rows,
                                                   long long width, long long n, long long i) {
    GRID_LOOP(r, rows) {
        T acc = 0;
        for (long long j = 0; j < width; j++) {
            const long long k = r * width + j;
            gb[k] = dy[k] * g[r * n + i];
            acc = det_fma(dy[k], b[k], acc);
        }
        dg[r * n + i] = acc;
    }
}

// GradientClip.norm: per parameter, s = fma(d, d, s) over its gradient in order, in double.
extern "C" __global__ void loom_sum_squares(double* partial, const T* g, const long long* offsets, long long count) {
    GRID_LOOP(i, count) {
        double s = 0;
        for (long long k = offsets[i]; k < offsets[i + 1]; k++) { double d = (double)g[k]; s = __fma_rn(d, d, s); }
        partial[i] = s;
    }
}
"""#
}
