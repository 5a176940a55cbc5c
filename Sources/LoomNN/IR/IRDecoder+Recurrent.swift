import LoomCore

/// The cell of a recurrent layer (IR `type`): `rnn` (tanh), `lstm`, `gru`.
public enum RecurrentCell: String, Equatable, Sendable, CaseIterable {
    case rnn, lstm, gru

    /// Gates per hidden unit: the row blocks of `weight_ih`/`weight_hh` (PyTorch's order:
    /// LSTM i, f, g, o; GRU r, z, n).
    public var gates: Int {
        switch self {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }
}

/// IR fields of `rnn`, `lstm` and `gru` (docs/ir.md).
public struct RecurrentSpec: Equatable, Sendable {
    public var cell: RecurrentCell
    public var hiddenSize: Int
    /// true: `[batch, seq, hidden]` (every step); false: `[batch, hidden]` (the last step).
    public var returnSequences: Bool
    public var bias: Bool

    public init(cell: RecurrentCell, hiddenSize: Int, returnSequences: Bool = true, bias: Bool = true) {
        self.cell = cell; self.hiddenSize = hiddenSize; self.returnSequences = returnSequences; self.bias = bias
    }
}

extension IRDecoder {
    /// `{"type": "lstm", "hidden_size": 8, "return_sequences": true, "bias": true}`.
    static func decodeRecurrent(_ f: inout IRFields, cell: RecurrentCell) throws(LoomError) -> LayerSpec {
        .recurrent(RecurrentSpec(cell: cell, hiddenSize: try f.int("hidden_size", min: 1),
                                 returnSequences: try f.bool("return_sequences", true), bias: try f.bool("bias", true)))
    }
}

extension IREncoder {
    static func encodeRecurrent(_ r: RecurrentSpec, into o: inout JSONObject) {
        o.set("hidden_size", num(r.hiddenSize))
        o.set("return_sequences", .bool(r.returnSequences))
        o.set("bias", .bool(r.bias))
    }
}

extension Builder {
    /// Checks a recurrent layer: input `[seq, features]` with seq ≥ 1, hidden_size ≥ 1, and
    /// weights within the size limit.
    mutating func buildRecurrent(_ r: RecurrentSpec, path: String, name: String, input: [Int]) throws(LoomError) -> Layer<T> {
        let type = r.cell.rawValue
        guard r.hiddenSize > 0 else {
            throw LoomError(.invalidIR, path + ".hidden_size", "must be a positive integer, got \(r.hiddenSize)")
        }
        guard input.count == 2 else {
            throw LoomError(.shapeMismatch, path, "\(type) needs an input of shape [seq, features] per sample, got \(Tensor<T>.describe(input))")
        }
        guard input[0] > 0 else { throw LoomError(.shapeMismatch, path, "\(type) needs a sequence of at least one step, got length \(input[0])") }
        guard input[1] > 0 else { throw LoomError(.shapeMismatch, path, "\(type) needs at least one input feature, got \(input[1])") }
        _ = try Builder.checkedCount([r.cell.gates, r.hiddenSize, input[1]], path: path + ".hidden_size", what: "weight_ih")
        _ = try Builder.checkedCount([r.cell.gates, r.hiddenSize, r.hiddenSize], path: path + ".hidden_size", what: "weight_hh")
        _ = try Builder.checkedCount([r.cell.gates, r.hiddenSize, input[0]], path: path, what: "the gates of one sample,")
        return RecurrentLayer(path: path, name: name, id: takeID(), inputShape: input, spec: r, params: params, seed: seed)
    }
}
