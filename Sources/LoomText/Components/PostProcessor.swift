import LoomCore

/// A post-processor (the `post_processor` field): adds the special tokens around the encoded
/// sequence(s) when `encode` is asked to. Only ids are produced (no offsets or type ids).
public indirect enum PostProcessor: Sendable {
    public enum TemplatePiece: Sendable {
        /// The first (A) or second (B) sequence.
        case sequence(isB: Bool)
        /// A special token: the ids listed for it in the template's `special_tokens`.
        case special([Int])
    }

    /// `TemplateProcessing`: the pieces for one sequence and for a pair.
    case template(single: [TemplatePiece], pair: [TemplatePiece])
    /// `BertProcessing`: [CLS] A [SEP] (B [SEP]).
    case bert(sep: Int, cls: Int)
    /// `RobertaProcessing`: <s> A </s> (</s> B </s>).
    case roberta(sep: Int, cls: Int)
    /// `ByteLevel`: offsets only; the ids are unchanged.
    case byteLevel
    case sequence([PostProcessor])

    /// Throws (kind `.invalidArgument`, path `path`) when a special token id is outside
    /// `0..<Tokenizer.idLimit`.
    func checkIds(_ path: String) throws(LoomError) {
        func check(_ id: Int) throws(LoomError) {
            guard id >= 0 && id < Tokenizer.idLimit else {
                throw LoomError(.invalidArgument, path, "special token id \(id) is outside 0..<\(Tokenizer.idLimit)")
            }
        }
        switch self {
        case .template(let single, let pair):
            for piece in single + pair { if case .special(let ids) = piece { for id in ids { try check(id) } } }
        case .bert(let sep, let cls), .roberta(let sep, let cls):
            try check(sep)
            try check(cls)
        case .byteLevel: break
        case .sequence(let list):
            for p in list { try p.checkIds(path) }
        }
    }

    /// The ids of sequence `a` (and the pair's `b`) with the special tokens added.
    public func process(_ a: [Int], _ b: [Int]?) -> [Int] {
        var out = [Int]()
        for e in processEncodings(b.map { [a, $0] } ?? [a]) { out += e }
        return out
    }

    /// As the library: each processor maps the list of encodings (one per sequence) to a new
    /// list; the template-like ones merge them into one.
    func processEncodings(_ encodings: [[Int]]) -> [[Int]] {
        let a = encodings.first ?? []
        let b: [Int]? = encodings.count > 1 ? encodings[1] : nil
        switch self {
        case .template(let single, let pair):
            var out = [Int]()
            for piece in (b == nil ? single : pair) {
                switch piece {
                case .sequence(let isB): out.append(contentsOf: isB ? (b ?? []) : a)
                case .special(let ids): out.append(contentsOf: ids)
                }
            }
            return [out]
        case .bert(let sep, let cls):
            var out = [cls] + a + [sep]
            if let b { out += b + [sep] }
            return [out]
        case .roberta(let sep, let cls):
            var out = [cls] + a + [sep]
            if let b { out += [sep] + b + [sep] }
            return [out]
        case .byteLevel:
            return encodings
        case .sequence(let list):
            var e = encodings
            for p in list { e = p.processEncodings(e) }
            return e
        }
    }
}
