// WebAssembly has no fused multiply-add; LLVM lowers `addingProduct` to calls to C `fmaf`/`fma`.
// The wasm build of LoomCore provides them here, implemented exactly in software.
#if arch(wasm32)
@_cdecl("fmaf") public func _loom_fmaf(_ a: Float, _ b: Float, _ c: Float) -> Float { SoftFMA.fma(a, b, c) }
@_cdecl("fma") public func _loom_fma(_ a: Double, _ b: Double, _ c: Double) -> Double { SoftFMA.fma(a, b, c) }
#endif
