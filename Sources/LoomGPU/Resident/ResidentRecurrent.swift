import LoomCore
import LoomNN

/// `RecurrentLayer` (rnn, lstm, gru): the input projection of every step at once, then per step the
/// recurrent projection and one cell kernel (`loom_recurrent_step`); backward per step in reverse
/// (`loom_recurrent_step_backward`, then dh_{t−1} = dhp_t·W_hh), then the parameter gradients and
/// dx over all rows — the CPU layer's order (its doc comment), from h0 = c0 = +0.
final class RecurrentOp<T: LoomFloat>: ResidentOp<T> {
    let layer: RecurrentLayer<T>
    var x: DeviceTensor? = nil
    var xp: CUDABuffer?, hp: CUDABuffer?, h: CUDABuffer?, c: CUDABuffer?, hPrev: CUDABuffer?, hs: CUDABuffer?
    var gates: CUDABuffer?, e1: CUDABuffer?, e2: CUDABuffer?, c0: CUDABuffer?
    var carried: CUDABuffer?, carriedC: CUDABuffer?, dxp: CUDABuffer?, dhp: CUDABuffer?, dx: CUDABuffer?
    let sum: ResidentRuntime<T>.Formula
    var kept = (hs: false, training: false)

    init(_ l: RecurrentLayer<T>, _ rt: ResidentRuntime<T>) {
        layer = l
        sum = rt.formula(ElementwiseProgram.sum)
        super.init(rt)
    }

    var cellCode: Int {
        switch layer.spec.cell {
        case .rnn: return 0
        case .lstm: return 1
        case .gru: return 2
        }
    }

    override func forward(_ x: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer, nh = l.hiddenSize, gh = l.spec.cell.gates * nh
        guard x.shape.count == 3, x.shape[1] == l.steps, x.shape[2] == l.inFeatures, x.shape[0] > 0 else {
            throw LoomError(.shapeMismatch, l.path, "\(l.typeName) expects input [batch, \(l.steps), \(l.inFeatures)], got \(Tensor<T>.describe(x.shape))")
        }
        let nb = x.shape[0], ns = l.steps, rows = nb * ns, lstm = l.spec.cell == .lstm, training = rt.training
        kept = (l.spec.returnSequences || (training && l.spec.cell == .rnn), training)
        let xpp = try rt.reserve(&xp, rows * gh), hpp = try rt.reserve(&hp, nb * gh)
        let hp0 = try rt.reserve(&h, nb * nh), cp = lstm ? try rt.reserve(&c, nb * nh) : 0
        try rt.zero(hp0, nb * nh)
        if lstm { try rt.zero(cp, nb * nh) }
        let prev = training ? try rt.reserve(&hPrev, rows * nh) : 0
        let seq = kept.hs ? try rt.reserve(&hs, rows * nh) : 0
        let extra = training && l.spec.cell != .rnn
        let gp = extra ? try rt.reserve(&gates, rows * gh) : 0, e1p = extra ? try rt.reserve(&e1, rows * nh) : 0
        let e2p = training && lstm ? try rt.reserve(&e2, rows * nh) : 0
        // 1. Input projection of every step, chains starting at b_ih.
        try rt.project(x.pointer, rows: rows, inF: l.inFeatures, weight: l.weightIH, bias: l.biasIH, outF: gh, into: xpp)
        for t in 0..<ns {
            // 2. Recurrent projection, chains starting at b_hh; then the cell.
            try rt.project(hp0, rows: nb, inF: nh, weight: l.weightHH, bias: l.biasHH, outF: gh, into: hpp)
            try rt.run("loom_recurrent_step", over: nb * nh,
                       [.pointer(hp0), .pointer(cp), .pointer(prev), .pointer(seq), .pointer(gp), .pointer(e1p), .pointer(e2p),
                        .pointer(xpp), .pointer(hpp), .int(cellCode), .int(nb), .int(ns), .int(nh), .int(t)])
        }
        self.x = x
        return l.spec.returnSequences ? DeviceTensor(pointer: seq, shape: [nb, ns, nh]) : DeviceTensor(pointer: hp0, shape: [nb, nh])
    }

    override func backward(_ dy: DeviceTensor) throws(LoomError) -> DeviceTensor {
        let l = layer, x = self.x!, nh = l.hiddenSize, gh = l.spec.cell.gates * nh
        let nb = x.shape[0], ns = l.steps, rows = nb * ns, lstm = l.spec.cell == .lstm, gru = l.spec.cell == .gru
        let seq = l.spec.returnSequences
        let cr = try rt.reserve(&carried, nb * nh), cc = lstm ? try rt.reserve(&carriedC, nb * nh) : 0
        try rt.zero(cr, nb * nh)
        if lstm { try rt.zero(cc, nb * nh) }
        // The initial cell state, +0 (read at t = 0).
        let zeros = lstm ? try rt.reserve(&c0, nb * nh) : 0
        if lstm { try rt.zero(zeros, nb * nh) }
        // Without return_sequences, dy (the last step's) is added to the carried gradient once.
        if !seq { try rt.run(sum, n: nb * nh, inputs: [cr, dy.pointer], outputs: [cr]) }
        let dxpp = try rt.reserve(&dxp, rows * gh), dhpp = gru ? try rt.reserve(&dhp, rows * gh) : dxpp
        for t in stride(from: ns - 1, through: 0, by: -1) {
            try rt.run("loom_recurrent_step_backward", over: nb * nh,
                       [.pointer(dxpp), .pointer(dhpp), .pointer(cr), .pointer(cc), .pointer(dy.pointer), .pointer(hs?.pointer ?? 0),
                        .pointer(hPrev!.pointer), .pointer(gates?.pointer ?? 0), .pointer(e1?.pointer ?? 0), .pointer(e2?.pointer ?? 0),
                        .pointer(zeros), .int(cellCode), .int(seq ? 1 : 0), .int(nb), .int(ns), .int(nh), .int(t)])
            // dh_{t−1} = dhp_t · W_hh, chains from +0 (gru: from dh·z).
            try rt.gemm(GemmKernel.Shape(m: nb, n: nh, k: gh, rsA: ns * gh, csA: 1, rsB: nh, csB: 1, ldc: nh, accumulate: gru),
                        a: dhpp + CUdeviceptr(t * gh * rt.size), b: rt.param(l.weightHH), c: cr)
        }
        try rt.projectionGrads(dxpp, rows: rows, outF: gh, x: x.pointer, inF: l.inFeatures, weight: l.weightIH, bias: l.biasIH)
        try rt.projectionGrads(dhpp, rows: rows, outF: gh, x: hPrev!.pointer, inF: nh, weight: l.weightHH, bias: l.biasHH)
        let d = try rt.reserve(&dx, rows * l.inFeatures)
        try rt.projectionInputGrad(dxpp, rows: rows, outF: gh, weight: l.weightIH, inF: l.inFeatures, into: d, accumulate: false)
        return DeviceTensor(pointer: d, shape: x.shape)
    }
}
