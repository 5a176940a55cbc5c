// The data of the canonical definitions, for backends that print them into kernel source
// (LoomGPU's CUDA port of DetMath): one copy of every table and split constant.

extension DetMath {
    /// A table or constant of the canonical definitions, by the name a kernel source uses.
    public struct Table: Sendable {
        public var name: String
        public var values: [Double]
    }

    /// Every table (`exp`: 2^(j/64) as double-double pairs; `log`: (c, −log c hi, lo) triples;
    /// `erf_small`, `erf`: the erf polynomials) and split constant.
    public static var tables: [Table] {
        [Table(name: "det_exp_table", values: _expTable),
         Table(name: "det_log_table", values: _logTable),
         Table(name: "det_erf_small", values: _erfSmall),
         Table(name: "det_erf_table", values: _erfTable)]
    }

    public static var constants: [(name: String, value: Double)] {
        [("DET_EXP_L1", _expL1), ("DET_EXP_L2", _expL2), ("DET_EXP_INV_L", _expInvL),
         ("DET_LN2_HI", _ln2Hi), ("DET_LN2_LO", _ln2Lo),
         ("DET_TWO_OVER_SQRT_PI_HI", _twoOverSqrtPiHi), ("DET_TWO_OVER_SQRT_PI_LO", _twoOverSqrtPiLo)]
    }
}
