import FuzzSupport
import _LoomFuzzTargets

#if canImport(Glibc)
import Glibc
#endif

// libFuzzer entry points (libFuzzer supplies main). The target is chosen by the environment
// variable LOOM_FUZZ_TARGET (ir, safetensors, gguf, tokenizer, options); scripts/fuzz sets it.

nonisolated(unsafe) var fuzzTarget: FuzzTarget = .ir

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutableRawPointer?) -> Int32 {
    let names = FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")
    guard let raw = getenv("LOOM_FUZZ_TARGET") else {
        fputs("loom-fuzz: set LOOM_FUZZ_TARGET to one of: \(names)\n", stderr)
        exit(2)
    }
    let name = String(cString: raw)
    guard let t = FuzzTarget(rawValue: name) else {
        fputs("loom-fuzz: unknown LOOM_FUZZ_TARGET \"\(name)\"; the targets are: \(names)\n", stderr)
        exit(2)
    }
    fuzzTarget = t
    if let v = getenv("LOOM_FUZZ_VERBOSE"), String(cString: v) != "0" { FuzzTargets.verbose = true }
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    FuzzTargets.run(fuzzTarget, bytes)
    return 0
}

/// Half of the mutations are boundary values in the input's structure (BoundaryMutator), the
/// other half libFuzzer's own (which also inserts dictionary entries). Replays from the seed.
@_cdecl("LLVMFuzzerCustomMutator")
public func fuzzCustomMutator(_ data: UnsafeMutablePointer<UInt8>?, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
    guard let data else { return 0 }
    var random = FuzzRandom(seed: seed)
    if random.oneIn(2) {
        let bytes = Array(UnsafeBufferPointer(start: data, count: size))
        if let out = BoundaryMutator.mutate(bytes, target: fuzzTarget, maxSize: maxSize, random: &random) {
            out.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: out.count) }
            return out.count
        }
    }
    return LLVMFuzzerMutate(data, size, maxSize)
}
