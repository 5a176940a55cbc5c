import LoomCore
import LoomText

// Tokenizers through the C ABI: a Hugging Face tokenizer.json (text), encode to ids, decode to text.
// (From a file, tokenizer.json or a GGUF vocabulary: Native/Files.swift.)

@_cdecl("loom_tokenizer_from_json")
public func loom_tokenizer_from_json(_ json: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded { () throws(LoomError) in
        let out = try nonNull(out, "out")
        out.pointee = Handles.tokenizers.add(TokenizerHandle(try Tokenizer(json: try string(json, "json"))))
        return 0
    }
}

@_cdecl("loom_tokenizer_free")
public func loom_tokenizer_free(_ tok: OpaquePointer?) { Handles.tokenizers.remove(tok, "loom_tokenizer_free") }

@_cdecl("loom_tokenizer_vocab_size")
public func loom_tokenizer_vocab_size(_ tok: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let t = try Handles.tokenizers.get(tok)
        try nonNull(out, "out").pointee = t.tokenizer.vocabularySize
        return 0
    }
}

/// The ids of `text` (UTF-8, `length` bytes) into a caller buffer; *count gets how many there are.
/// add_special: the post-processor's special tokens ([CLS] … [SEP] and the like).
@_cdecl("loom_tokenizer_encode")
public func loom_tokenizer_encode(_ tok: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ length: Int, _ addSpecial: Int32,
                                  _ ids: UnsafeMutablePointer<Int32>?, _ capacity: Int, _ count: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let t = try Handles.tokenizers.get(tok)
        guard length >= 0 else { throw LoomError(.invalidArgument, "length", "is negative") }
        let s = try string(UnsafeRawPointer(text), length, "text")  // NULL is fine for length 0
        var out = [Int32]()
        for id in try t.tokenizer.encode(s, addSpecialTokens: addSpecial != 0) {
            // Ids are checked to fit 0..<2^31 when a tokenizer is loaded; this keeps that a checked fact.
            guard let v = Int32(exactly: id) else { throw LoomError(.invalidModel, "tokenizer", "token id \(id) does not fit 32 bits") }
            out.append(v)
        }
        return copyOut(out, ids, capacity, count, what: "ids")
    }
}

/// The text of `count` ids (UTF-8 + NUL) into buf; skip_special drops special tokens.
@_cdecl("loom_tokenizer_decode")
public func loom_tokenizer_decode(_ tok: OpaquePointer?, _ ids: UnsafePointer<Int32>?, _ count: Int, _ skipSpecial: Int32,
                                  _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    guarded { () throws(LoomError) in
        let t = try Handles.tokenizers.get(tok)
        guard count >= 0 else { throw LoomError(.invalidArgument, "count", "is negative") }
        let list = count == 0 ? [] : UnsafeBufferPointer(start: try nonNull(ids, "ids"), count: count).map { Int($0) }
        return copyOut(try t.tokenizer.decode(list, skipSpecialTokens: skipSpecial != 0), buf, capacity, needed)
    }
}
