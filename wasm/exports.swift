// What the wasm module adds to the C ABI (Sources/LoomC/Portable, compiled in by scripts/build-wasm):
// memory for the caller's buffers, since JavaScript cannot allocate inside the module.
import LoomCore

/// `n` bytes of the module's memory (8-byte aligned), or 0 when n is negative or memory is exhausted.
@_cdecl("loom_alloc")
public func loom_alloc(_ n: Int) -> UnsafeMutableRawPointer? {
    guard n >= 0 else { return nil }
    return UnsafeMutableRawPointer.allocate(byteCount: Swift.max(n, 1), alignment: 8)
}

/// Releases memory from loom_alloc (NULL is ignored).
@_cdecl("loom_dealloc")
public func loom_dealloc(_ p: UnsafeMutableRawPointer?) {
    p?.deallocate()
}
