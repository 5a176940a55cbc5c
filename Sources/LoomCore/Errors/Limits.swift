/// The limits on what input from outside (an IR, a saved model, a safetensors or GGUF file, a
/// tokenizer, a data file, a C caller) may make Loom compute or allocate — checked *before*
/// anything is allocated, so an absurd size is a `LoomError` naming the field, never an
/// arithmetic trap or an allocation failure that kills the host process (docs/reliability.md).
///
/// Three rules, one per class of hostile input:
/// - **Sizes are checked integers.** Every count, size, offset and id that comes from outside goes
///   through `product`/`sum` (nil on overflow) or is bounded by `maxInteger` where it is read, so
///   no later arithmetic on it can overflow.
/// - **One tensor has at most `maxElements` elements** (2^31; 2^31 − 1 where `Int` has 32 bits).
/// - **One memory budget, `memoryBytes`**, bounds what a model makes Loom hold at once: a
///   network's parameters and gradients (checked when it is built), the activations of one pass
///   (checked when the batch is known), a file read into memory, a KV cache. The default fits the
///   machine (`Loom` lowers it to half the physical memory where that is known); `loom --max-memory`
///   and `loom_set_memory_limit` raise or lower it.
public enum Limits {
    /// The largest integer an IR or model-config field may hold: 2^31 (2^31 − 1 on 32-bit
    /// platforms). No size in a network can be larger, and a product of two such values cannot
    /// overflow a 64-bit `Int`.
    public static var maxInteger: Int { Int(truncatingIfNeeded: Swift.min(Int64(Int.max), Int64(1) << 31)) }

    /// The most elements one tensor (a parameter, or one sample's activations) may have.
    public static var maxElements: Int { maxInteger }

    /// The default memory budget: 16 GiB on 64-bit platforms, 2 GiB − 1 where `Int` has 32 bits
    /// (wasm32, whose whole address space is 4 GiB).
    public static var defaultMemoryBytes: Int {
        #if _pointerBitWidth(_32)
        return Int.max
        #else
        return 1 << 34
        #endif
    }

    /// The memory budget in bytes (see the type's comment). Set it before building networks or
    /// loading models; it is read, never written, by everything else.
    nonisolated(unsafe) public static var memoryBytes: Int = defaultMemoryBytes

    /// `a · b`, or nil when it overflows or either is negative.
    @inline(__always)
    public static func product(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (p, o) = a.multipliedReportingOverflow(by: b)
        return o ? nil : p
    }

    /// The product of `factors` (1 for none), or nil when it overflows or a factor is negative.
    public static func product(_ factors: [Int]) -> Int? {
        var n = 1
        for f in factors {
            guard let p = product(n, f) else { return nil }
            n = p
        }
        return n
    }

    /// `a + b`, or nil when it overflows or either is negative.
    @inline(__always)
    public static func sum(_ a: Int, _ b: Int) -> Int? {
        guard a >= 0, b >= 0 else { return nil }
        let (s, o) = a.addingReportingOverflow(b)
        return o ? nil : s
    }

    /// Checks that `bytes` (nil: the size overflowed) fits the memory budget; the error names
    /// `path` and says what needed the memory and how to raise the budget.
    public static func checkMemory(_ bytes: Int?, for what: String, path: String,
                                   kind: LoomError.Kind = .invalidInput) throws(LoomError) {
        guard let b = bytes, b <= memoryBytes else {
            let need = bytes.map { describeBytes($0) } ?? "more than \(describeBytes(Int.max))"  // the size overflowed Int
            throw LoomError(kind, path, "\(what) would need \(need), over the memory budget of \(describeBytes(memoryBytes)) (raise it with --max-memory or loom_set_memory_limit)")
        }
    }

    /// `bytes` for a person: "512 B", "3.4 GiB".
    public static func describeBytes(_ bytes: Int) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var v = Double(bytes), u = 0
        while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
        if u == 0 { return "\(bytes) B" }
        let tenths = Int(v * 10 + 0.5)  // a truncating conversion, not rounded(): no libm in wasm
        return "\(tenths / 10).\(tenths % 10) \(units[u])"
    }
}
