import LoomCore

/// Scratch buffers of one recurrent pass, zero-initialised and freed together.
final class RecurrentScratch<T: LoomFloat> {
    private var buffers: [UnsafeMutablePointer<T>] = []

    func make(_ n: Int) -> UnsafeMutablePointer<T> {
        let p = UnsafeMutablePointer<T>.allocate(capacity: Swift.max(n, 1))
        p.initialize(repeating: 0, count: Swift.max(n, 1))
        buffers.append(p)
        return p
    }

    func copy(_ a: [T]) -> UnsafeMutablePointer<T> {
        let p = make(a.count)
        for i in 0..<a.count { p[i] = a[i] }
        return p
    }

    func tensor(_ p: UnsafeMutablePointer<T>, _ shape: [Int]) -> Tensor<T> {
        Tensor(uncheckedShape: shape, data: Array(UnsafeBufferPointer(start: p, count: Tensor<T>.count(of: shape))))
    }

    deinit { for p in buffers { p.deallocate() } }
}

extension RecurrentLayer {
    /// Forward from h0/c0 (nil: +0); the order is the one in the layer's doc comment.
    @_specialize(where T == Float) @_specialize(where T == Double)
    func run(_ x: Tensor<T>, h0: Tensor<T>?, c0: Tensor<T>?, _ pass: Pass<T>)
        -> (output: Tensor<T>, hS: Tensor<T>, cS: Tensor<T>?) {
        let nb = x.shape[0], ns = steps, ni = inFeatures, nh = hiddenSize, gh = spec.cell.gates * nh
        let cell = spec.cell, train = pass.training, ctx = pass.context, params = pass.params
        let s = RecurrentScratch<T>()
        let xIn = s.copy(x.data), wih = s.copy(params.values[weightIH].data)
        // W_hh transposed once ([nh][gh], row-major in the product's k): every step's product then
        // reads its B rows contiguously instead of re-packing a transposed matrix (the same products).
        let whhT = s.make(gh * nh)
        params.values[weightHH].data.withUnsafeBufferPointer { w in
            for g in 0..<gh { for u in 0..<nh { whhT[u * gh + g] = w[g * nh + u] } }
        }
        // 1. Input projection of every step at once, chains starting at b_ih.
        let xp = s.make(nb * ns * gh)
        if let bi = biasIH {
            let b = params.values[bi].data
            for r in 0..<(nb * ns) { for g in 0..<gh { xp[r * gh + g] = b[g] } }
        }
        if !WeightProduct.quantized(pass, weight: weightIH, x: UnsafePointer(xIn), rows: nb * ns, cols: ni, rsX: ni, csX: 1,
                                    c: xp, rsC: gh, csC: 1) {
            Gemm.run(ctx, GemmProblem(m: nb * ns, n: gh, k: ni, a: UnsafePointer(xIn), rsA: ni, csA: 1,
                                      b: UnsafePointer(wih), rsB: 1, csB: ni, c: xp, ldc: gh, accumulate: true))
        }
        let bhh: [T]? = biasHH.map { params.values[$0].data }
        let hCur = s.make(nb * nh), cCur = s.make(cell == .lstm ? nb * nh : 0)
        if let h = h0 { for i in 0..<(nb * nh) { hCur[i] = h.data[i] } }
        if let c = c0, cell == .lstm { for i in 0..<(nb * nh) { cCur[i] = c.data[i] } }
        let c0Saved = train && cell == .lstm ? s.tensor(cCur, [nb, nh]) : Tensor<T>(zeros: [0])
        let hp = s.make(nb * gh)
        // Per-step storage: outputs, and for training what BPTT needs.
        let seqLen = nb * ns * nh
        typealias Ptr = UnsafeMutablePointer<T>
        let hs: Ptr? = spec.returnSequences || (train && cell == .rnn) ? s.make(seqLen) : nil
        let hPrev: Ptr? = train ? s.make(seqLen) : nil
        let gates: Ptr? = train && cell != .rnn ? s.make(nb * ns * gh) : nil
        let extra1: Ptr? = train && cell != .rnn ? s.make(seqLen) : nil   // lstm: c_t; gru: hp_n
        let extra2: Ptr? = train && cell == .lstm ? s.make(seqLen) : nil  // lstm: tanh(c_t)
        let chunk = Swift.max(1, 2048 / Swift.max(1, gh))
        for t in 0..<ns {
            if let hpv = hPrev {
                for b in 0..<nb { for u in 0..<nh { hpv[(b * ns + t) * nh + u] = hCur[b * nh + u] } }
            }
            for b in 0..<nb { for g in 0..<gh { hp[b * gh + g] = bhh?[g] ?? 0 } }
            // 2. Recurrent projection, chains starting at b_hh.
            if !WeightProduct.quantized(pass, weight: weightHH, x: UnsafePointer(hCur), rows: nb, cols: nh, rsX: nh, csX: 1,
                                        c: hp, rsC: gh, csC: 1) {
                Gemm.run(ctx, GemmProblem(m: nb, n: gh, k: nh, a: UnsafePointer(hCur), rsA: nh, csA: 1,
                                          b: UnsafePointer(whhT), rsB: gh, csB: 1, c: hp, ldc: gh, accumulate: true))
            }
            ctx.parallelRanges(nb, minChunk: chunk) { rows in
                // The gates' arguments, then their functions over whole runs of units (DetFunction.map: the
                // vector kernels where there are; each element's operations are the canonical ones).
                withUnsafeTemporaryAllocation(of: T.self, capacity: gh + nh) { tmp in
                    let z = tmp.baseAddress!, w = z + gh
                    for b in rows {
                        let xr = xp + (b * ns + t) * gh, hr = hp + b * gh, hc = hCur + b * nh
                        let o = (b * ns + t) * nh, go = (b * ns + t) * gh
                        switch cell {
                        case .rnn:
                            for u in 0..<nh { z[u] = xr[u] + hr[u] }
                            DetFunction.tanh.map(ctx, z, hc, count: nh)
                        case .lstm:
                            let cc = cCur + b * nh
                            for g in 0..<gh { z[g] = xr[g] + hr[g] }
                            DetFunction.sigmoid.map(ctx, z, z, count: 2 * nh)
                            DetFunction.tanh.map(ctx, z + 2 * nh, z + 2 * nh, count: nh)
                            DetFunction.sigmoid.map(ctx, z + 3 * nh, z + 3 * nh, count: nh)
                            for u in 0..<nh { w[u] = (z[u] * z[2 * nh + u]).addingProduct(z[nh + u], cc[u]) }
                            for u in 0..<nh { cc[u] = w[u] }
                            DetFunction.tanh.map(ctx, w, w, count: nh)
                            for u in 0..<nh { hc[u] = z[3 * nh + u] * w[u] }
                            if let gs = gates, let e1 = extra1, let e2 = extra2 {
                                for g in 0..<gh { gs[go + g] = z[g] }
                                for u in 0..<nh { e1[o + u] = cc[u]; e2[o + u] = w[u] }
                            }
                        case .gru:
                            for g in 0..<(2 * nh) { z[g] = xr[g] + hr[g] }
                            DetFunction.sigmoid.map(ctx, z, z, count: 2 * nh)
                            for u in 0..<nh { z[2 * nh + u] = xr[2 * nh + u].addingProduct(z[u], hr[2 * nh + u]) }
                            DetFunction.tanh.map(ctx, z + 2 * nh, z + 2 * nh, count: nh)
                            for u in 0..<nh {
                                let zz = z[nh + u], n = z[2 * nh + u]
                                hc[u] = ((1 - zz) * n).addingProduct(zz, hc[u])
                            }
                            if let gs = gates, let e1 = extra1 {
                                for g in 0..<gh { gs[go + g] = z[g] }
                                for u in 0..<nh { e1[o + u] = hr[2 * nh + u] }
                            }
                        }
                        if let y = hs { for u in 0..<nh { y[o + u] = hc[u] } }
                    }
                }
            }
        }
        let seqShape = [nb, ns, nh]
        let hS = s.tensor(hCur, [nb, nh])
        let out = spec.returnSequences ? s.tensor(hs!, seqShape) : hS
        if train {
            let none = Tensor<T>(zeros: [0])
            pass.save(id, [x, s.tensor(hPrev!, seqShape), hs.map { s.tensor($0, seqShape) } ?? none,
                           gates.map { s.tensor($0, [nb, ns, gh]) } ?? none, extra1.map { s.tensor($0, seqShape) } ?? none,
                           extra2.map { s.tensor($0, seqShape) } ?? none, c0Saved])
        }
        return (out, hS, cell == .lstm ? s.tensor(cCur, [nb, nh]) : nil)
    }

    /// BPTT (order in the layer's doc comment); dhS/dcS: gradient of the final state (nil: +0).
    @_specialize(where T == Float) @_specialize(where T == Double)
    func backprop(_ dy: Tensor<T>, dhS: Tensor<T>?, dcS: Tensor<T>?, _ pass: Pass<T>)
        -> (dx: Tensor<T>, dh0: Tensor<T>, dc0: Tensor<T>?) {
        let saved = pass.saved[id]
        let x = saved[0]
        let nb = x.shape[0], ns = steps, ni = inFeatures, nh = hiddenSize, gh = spec.cell.gates * nh
        let cell = spec.cell, ctx = pass.context, params = pass.params, seq = spec.returnSequences
        let s = RecurrentScratch<T>()
        let xIn = s.copy(x.data), hPrev = s.copy(saved[1].data), hs = s.copy(saved[2].data), gates = s.copy(saved[3].data)
        let e1 = s.copy(saved[4].data), e2 = s.copy(saved[5].data), c0 = s.copy(saved[6].data)
        let wih = s.copy(params.values[weightIH].data), whh = s.copy(params.values[weightHH].data)
        let dyIn = s.copy(dy.data)
        let carried = s.make(nb * nh), carriedC = s.make(cell == .lstm ? nb * nh : 0)
        if let d = dhS { for i in 0..<(nb * nh) { carried[i] = d.data[i] } }
        if let d = dcS, cell == .lstm { for i in 0..<(nb * nh) { carriedC[i] = d.data[i] } }
        if !seq { for i in 0..<(nb * nh) { carried[i] = carried[i] + dyIn[i] } }
        let dxp = s.make(nb * ns * gh)
        let dhp = cell == .gru ? s.make(nb * ns * gh) : dxp
        let chunk = Swift.max(1, 2048 / Swift.max(1, gh))
        for t in stride(from: ns - 1, through: 0, by: -1) {
            ctx.parallelRanges(nb, minChunk: chunk) { rows in
                for b in rows {
                    let o = (b * ns + t) * nh, go = (b * ns + t) * gh, cr = carried + b * nh
                    for u in 0..<nh {
                        let dh = seq ? cr[u] + dyIn[o + u] : cr[u]
                        switch cell {
                        case .rnn:
                            let h = hs[o + u]
                            dxp[go + u] = dh * (1 - h * h)
                        case .lstm:
                            let i = gates[go + u], f = gates[go + nh + u], g = gates[go + 2 * nh + u], og = gates[go + 3 * nh + u]
                            let tc = e2[o + u]
                            let cPrev = t == 0 ? c0[b * nh + u] : e1[o - nh + u]
                            let dc = carriedC[b * nh + u].addingProduct(dh * og, 1 - tc * tc)
                            dxp[go + u] = (dc * g) * (i * (1 - i))
                            dxp[go + nh + u] = (dc * cPrev) * (f * (1 - f))
                            dxp[go + 2 * nh + u] = (dc * i) * (1 - g * g)
                            dxp[go + 3 * nh + u] = (dh * tc) * (og * (1 - og))
                            carriedC[b * nh + u] = dc * f
                        case .gru:
                            let r = gates[go + u], z = gates[go + nh + u], n = gates[go + 2 * nh + u]
                            let dn = (dh * (1 - z)) * (1 - n * n)
                            let dz = (dh * (hPrev[o + u] - n)) * (z * (1 - z))
                            let dr = (dn * e1[o + u]) * (r * (1 - r))
                            dxp[go + u] = dr; dxp[go + nh + u] = dz; dxp[go + 2 * nh + u] = dn
                            dhp[go + u] = dr; dhp[go + nh + u] = dz; dhp[go + 2 * nh + u] = dn * r
                            cr[u] = dh * z
                        }
                    }
                }
            }
            // dh_{t−1} = dhp_t · W_hh, chains starting at +0 (gru: at dh·z).
            Gemm.run(ctx, GemmProblem(m: nb, n: nh, k: gh, a: UnsafePointer(dhp + t * gh), rsA: ns * gh, csA: 1,
                                      b: UnsafePointer(whh), rsB: nh, csB: 1, c: carried, ldc: nh, accumulate: cell == .gru))
        }
        let rows = nb * ns
        pass.params.grads[weightIH].data.withUnsafeMutableBufferPointer { dw in
            Gemm.run(ctx, GemmProblem(m: gh, n: ni, k: rows, a: UnsafePointer(dxp), rsA: 1, csA: gh,
                                      b: UnsafePointer(xIn), rsB: ni, csB: 1, c: dw.baseAddress!, ldc: ni, accumulate: true))
        }
        pass.params.grads[weightHH].data.withUnsafeMutableBufferPointer { dw in
            Gemm.run(ctx, GemmProblem(m: gh, n: nh, k: rows, a: UnsafePointer(dhp), rsA: 1, csA: gh,
                                      b: UnsafePointer(hPrev), rsB: nh, csB: 1, c: dw.baseAddress!, ldc: nh, accumulate: true))
        }
        for (index, src) in [(biasIH, dxp), (biasHH, dhp)] {
            guard let bi = index else { continue }
            pass.params.grads[bi].data.withUnsafeMutableBufferPointer { db in
                ctx.parallelRanges(gh, minChunk: 256) { cols in
                    for r in 0..<rows { for g in cols { db[g] += src[r * gh + g] } }
                }
            }
        }
        let dx = s.make(rows * ni)
        Gemm.run(ctx, GemmProblem(m: rows, n: ni, k: gh, a: UnsafePointer(dxp), rsA: gh, csA: 1,
                                  b: UnsafePointer(wih), rsB: ni, csB: 1, c: dx, ldc: ni, accumulate: false))
        return (s.tensor(dx, x.shape), s.tensor(carried, [nb, nh]), cell == .lstm ? s.tensor(carriedC, [nb, nh]) : nil)
    }
}
