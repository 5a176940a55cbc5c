// Exports of the tokenizer check module (compiled only by scripts/wasm-tokenizer-check): load a
// tokenizer.json, encode strings, decode the ids — LoomText running as Embedded Swift.
import LoomCore
import LoomText

nonisolated(unsafe) var input: [UInt8] = []
nonisolated(unsafe) var output: [UInt8] = []
nonisolated(unsafe) var tokenizer: Tokenizer? = nil

/// A buffer of `n` bytes for the next call's input.
@_expose(wasm, "text_input")
@_cdecl("text_input")
public func text_input(_ n: Int32) -> UnsafeMutablePointer<UInt8>? {
    input = [UInt8](repeating: 0, count: Int(max(n, 0)))
    return input.withUnsafeMutableBufferPointer { $0.baseAddress }
}

/// Loads the tokenizer.json in the input; 0, or minus the length of the error text.
@_expose(wasm, "text_load")
@_cdecl("text_load")
public func text_load() -> Int32 {
    do {
        tokenizer = try Tokenizer(jsonBytes: input)
        return 0
    } catch {
        output = Array(error.description.utf8)
        return -Int32(output.count)
    }
}

/// Encodes the input text (no special tokens) and decodes the ids: output "id,id,…|decoded".
@_expose(wasm, "text_encode")
@_cdecl("text_encode")
public func text_encode() -> Int32 {
    guard let t = tokenizer else { return -1 }
    let ids = t.encode(String(decoding: input, as: UTF8.self), addSpecialTokens: false)
    var text = ""
    for (i, id) in ids.enumerated() { text += (i > 0 ? "," : "") + String(id) }
    text += "|"
    do { text += try t.decode(ids) } catch { return -1 }
    output = Array(text.utf8)
    return Int32(output.count)
}

@_expose(wasm, "text_output")
@_cdecl("text_output")
public func text_output() -> UnsafeMutablePointer<UInt8>? {
    output.withUnsafeMutableBufferPointer { $0.baseAddress }
}
