/// The recurrent cells' per-step element-wise work (`RecurrentLayer`), written over the element
/// type `T` of `LayerKernels` and compiled with them; the projections around it are the product
/// kernel (`RecurrentOp`). Cell codes: 0 rnn, 1 lstm, 2 gru.
enum RecurrentKernels {
    static let body = #"""

// RecurrentLayer.run, step t, after hp = h_{t−1}·W_hhᵀ (+ b_hh): one thread per (batch row b, unit u),
// h (and c) updated in place. hPrev[b, t] gets the state before the step (null: not kept), hs[b, t]
// the new state (null: not kept); with `gates` (training) the gates and, lstm: c_t and tanh(c_t),
// gru: hp_n.
extern "C" __global__ void loom_recurrent_step(T* h, T* c, T* hPrev, T* hs, T* gates, T* e1, T* e2, const T* xp, const T* hp,
                                               long long cell, long long nb, long long ns, long long nh, long long t) {
    const long long gh = (cell == 0 ? 1 : (cell == 1 ? 4 : 3)) * nh;
    GRID_LOOP(i, nb * nh) {
        const long long b = i / nh, u = i % nh;
        const T* xr = xp + (b * ns + t) * gh;
        const T* hr = hp + b * gh;
        const long long o = (b * ns + t) * nh, go = (b * ns + t) * gh;
        if (hPrev) hPrev[o + u] = h[i];
        T hn;
        if (cell == 0) {
            hn = det_tanh_t(xr[u] + hr[u]);
        } else if (cell == 1) {
            const T ig = det_sigmoid_t(xr[u] + hr[u]), f = det_sigmoid_t(xr[nh + u] + hr[nh + u]);
            const T g = det_tanh_t(xr[2 * nh + u] + hr[2 * nh + u]), og = det_sigmoid_t(xr[3 * nh + u] + hr[3 * nh + u]);
            const T cn = det_fma(f, c[i], ig * g);
            const T tc = det_tanh_t(cn);
            c[i] = cn;
            hn = og * tc;
            if (gates) {
                gates[go + u] = ig; gates[go + nh + u] = f; gates[go + 2 * nh + u] = g; gates[go + 3 * nh + u] = og;
                e1[o + u] = cn; e2[o + u] = tc;
            }
        } else {
            const T r = det_sigmoid_t(xr[u] + hr[u]), z = det_sigmoid_t(xr[nh + u] + hr[nh + u]);
            const T hpn = hr[2 * nh + u];
            const T n = det_tanh_t(det_fma(r, hpn, xr[2 * nh + u]));
            hn = det_fma(z, h[i], ((T)1 - z) * n);
            if (gates) {
                gates[go + u] = r; gates[go + nh + u] = z; gates[go + 2 * nh + u] = n;
                e1[o + u] = hpn;
            }
        }
        h[i] = hn;
        if (hs) hs[o + u] = hn;
    }
}

// RecurrentLayer.backprop, step t (before dh_{t−1} = dhp_t·W_hh): one thread per (b, u). dh =
// carried (+ dy[b, t] with return_sequences); writes dxp (and dhp for gru, where rnn and lstm
// share dxp) and the carried cell gradient (lstm) or the start of dh_{t−1}'s chain (gru: dh·z).
// c0: the initial cell state (lstm).
extern "C" __global__ void loom_recurrent_step_backward(T* dxp, T* dhp, T* carried, T* carriedC, const T* dy, const T* hs,
                                                        const T* hPrev, const T* gates, const T* e1, const T* e2, const T* c0,
                                                        long long cell, long long seq, long long nb, long long ns, long long nh,
                                                        long long t) {
    const long long gh = (cell == 0 ? 1 : (cell == 1 ? 4 : 3)) * nh;
    GRID_LOOP(i, nb * nh) {
        const long long b = i / nh, u = i % nh;
        const long long o = (b * ns + t) * nh, go = (b * ns + t) * gh;
        const T dh = seq ? carried[i] + dy[o + u] : carried[i];
        if (cell == 0) {
            const T hv = hs[o + u];
            dxp[go + u] = dh * ((T)1 - hv * hv);
        } else if (cell == 1) {
            const T ig = gates[go + u], f = gates[go + nh + u], g = gates[go + 2 * nh + u], og = gates[go + 3 * nh + u];
            const T tc = e2[o + u];
            const T cPrev = t == 0 ? c0[i] : e1[o - nh + u];
            const T dc = det_fma(dh * og, (T)1 - tc * tc, carriedC[i]);
            dxp[go + u] = (dc * g) * (ig * ((T)1 - ig));
            dxp[go + nh + u] = (dc * cPrev) * (f * ((T)1 - f));
            dxp[go + 2 * nh + u] = (dc * ig) * ((T)1 - g * g);
            dxp[go + 3 * nh + u] = (dh * tc) * (og * ((T)1 - og));
            carriedC[i] = dc * f;
        } else {
            const T r = gates[go + u], z = gates[go + nh + u], n = gates[go + 2 * nh + u];
            const T dn = (dh * ((T)1 - z)) * ((T)1 - n * n);
            const T dz = (dh * (hPrev[o + u] - n)) * (z * ((T)1 - z));
            const T dr = (dn * e1[o + u]) * (r * ((T)1 - r));
            dxp[go + u] = dr; dxp[go + nh + u] = dz; dxp[go + 2 * nh + u] = dn;
            dhp[go + u] = dr; dhp[go + nh + u] = dz; dhp[go + 2 * nh + u] = dn * r;
            carried[i] = dh * z;
        }
    }
}
"""#
}
