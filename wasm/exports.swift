// The wasm module's exports for the bit-equality check (compiled only by scripts/build-wasm).
import LoomCore
import LoomNN

nonisolated(unsafe) var resultBytes: [UInt8] = []

/// Runs every reference network (forward + 20 training steps, f32 and f64) and keeps the
/// `name hash` lines; returns their byte length (read them with `loom_result_ptr`).
@_expose(wasm, "loom_reference_hashes")
@_cdecl("loom_reference_hashes")
public func loom_reference_hashes() -> Int32 {
    let ctx = SerialContext()
    do {
        let lines = try ReferenceNetworks.hashLines(context: ctx)
        resultBytes = Array((lines.joined(separator: "\n") + "\n").utf8)
    } catch {
        resultBytes = Array(("error: " + error.description + "\n").utf8)
        return -Int32(resultBytes.count)
    }
    return Int32(resultBytes.count)
}

@_expose(wasm, "loom_result_ptr")
@_cdecl("loom_result_ptr")
public func loom_result_ptr() -> UnsafeMutablePointer<UInt8>? {
    resultBytes.withUnsafeMutableBufferPointer { $0.baseAddress }
}
