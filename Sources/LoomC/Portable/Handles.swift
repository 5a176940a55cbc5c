#if canImport(Glibc)
import Glibc
#endif
#if canImport(Loom)
import Loom
#endif
import LoomCore
import LoomNN
import LoomText

// The C ABI's plumbing (include/loom.h, docs/c-abi.md): handle tables, the per-thread last error,
// status codes, caller buffers. The files under Portable/ are compiled twice — by SwiftPM into
// libloom (native, with Glibc locks and per-thread errors) and by scripts/build-wasm into the
// Embedded wasm module (single-threaded) — so both expose the same functions with the same checks.

/// A lock around the handle tables (a no-op where there are no threads: wasm).
struct TableLock {
    #if canImport(Glibc)
    nonisolated(unsafe) static var mutex = pthread_mutex_t()
    nonisolated(unsafe) static var once = pthread_once_t()
    static func locked<R>(_ body: () -> R) -> R {
        pthread_once(&once) { pthread_mutex_init(&TableLock.mutex, nil) }
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
    #else
    static func locked<R>(_ body: () -> R) -> R { body() }
    #endif
}

/// Live handles of one kind, so a NULL, freed, foreign or wrong-kind pointer is an error instead
/// of a crash: every call looks its handle up here before touching it. A handle is the address of
/// its retained object, so a trainer passed where a network is expected is simply not found.
/// A class held in a constant: the table itself is never copied, and its dictionary is touched
/// only under the lock (a struct in a static variable was copied, dictionary included, outside
/// the lock by every lookup — a race with a concurrent insert, seen as a crash in the threaded
/// C ABI test).
final class HandleTable<Object: AnyObject> {
    let what: String
    private var live: [UInt: Object] = [:]

    init(_ what: String) { self.what = what }

    func add(_ o: Object) -> OpaquePointer {
        let p = Unmanaged.passRetained(o).toOpaque()
        TableLock.locked { live[UInt(bitPattern: p)] = o }
        return OpaquePointer(p)
    }

    func get(_ p: OpaquePointer?) throws(LoomError) -> Object {
        guard let p else { throw LoomError(.invalidArgument, what, "is NULL") }
        let o = TableLock.locked { live[UInt(bitPattern: UnsafeRawPointer(p))] }
        guard let o else { throw LoomError(.invalidArgument, what, "is not a live \(what) (freed, or never created)") }
        return o
    }

    /// Releases a handle; NULL is ignored, a handle that is not live is reported (double free).
    func remove(_ p: OpaquePointer?, _ function: String) {
        guard let p else { return }
        let o = TableLock.locked { live.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(p))) }
        if o == nil { LastError.set("\(function): not a live \(what) (freed twice?)"); return }
        Unmanaged<Object>.fromOpaque(UnsafeRawPointer(p)).release()
    }
}

enum Handles {
    nonisolated(unsafe) static let networks = HandleTable<NetworkHandle>("network")
    nonisolated(unsafe) static let trainers = HandleTable<TrainerHandle>("trainer")
    nonisolated(unsafe) static let tokenizers = HandleTable<TokenizerHandle>("tokenizer")
    nonisolated(unsafe) static let steps = HandleTable<StepHandle>("step state")
    nonisolated(unsafe) static let tweens = HandleTable<TweenHandle>("tween state")
}

/// The calling thread's last error message.
enum LastError {
    #if canImport(Glibc)
    nonisolated(unsafe) static var key = pthread_key_t()
    nonisolated(unsafe) static var once = pthread_once_t()
    static func setup() { pthread_once(&once) { pthread_key_create(&LastError.key) { free($0) } } }

    static func set(_ message: String) {
        setup()
        if let old = pthread_getspecific(key) { free(old) }
        pthread_setspecific(key, strdup(message))
    }

    static func get() -> UnsafePointer<CChar> {
        setup()
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
    #else
    nonisolated(unsafe) static var message: [CChar] = [0]
    static func set(_ text: String) { message = text.utf8.map { CChar(bitPattern: $0) } + [0] }
    static func get() -> UnsafePointer<CChar> { message.withUnsafeBufferPointer { $0.baseAddress! } }
    #endif
    static let empty: StaticString = ""
}

/// The compute context a handle runs on: the multi-threaded CPU context natively, serial in wasm.
/// Results never depend on which.
#if canImport(Loom)
typealias HostContext = CPUContext
func hostContext(threads: Int) -> HostContext { CPUContext(threads: threads) }
#else
typealias HostContext = SerialContext
func hostContext(threads: Int) -> HostContext { SerialContext() }
#endif

final class NetworkHandle {
    var network: AnyNetwork
    var context: HostContext
    init(_ n: AnyNetwork) { network = n; context = hostContext(threads: 1) }
}

final class TrainerHandle {
    enum Kind { case f32(Trainer<Float>), f64(Trainer<Double>) }
    let owner: NetworkHandle
    let trainer: Kind
    init(owner: NetworkHandle, trainer: Kind) { self.owner = owner; self.trainer = trainer }
}

final class TokenizerHandle {
    let tokenizer: Tokenizer
    init(_ t: Tokenizer) { tokenizer = t }
}

/// Status codes of loom.h.
func status(_ e: LoomError) -> Int32 {
    LastError.set(e.description)
    switch e.kind {
    case .invalidArgument: return 1
    case .invalidJSON: return 2
    case .invalidIR: return 3
    case .invalidModel: return 4
    case .shapeMismatch: return 5
    case .invalidInput: return 6
    case .nonFinite: return 7
    case .io: return 8
    case .unsupportedVersion: return 9
    case .device: return 11
    }
}

let bufferTooSmall: Int32 = 10

/// Runs `body`, mapping a thrown LoomError to its status code.
@inline(__always) func guarded(_ body: () throws(LoomError) -> Int32) -> Int32 {
    do { return try body() } catch { return status(error) }
}

func nonNull<P>(_ p: P?, _ what: String) throws(LoomError) -> P {
    guard let p else { throw LoomError(.invalidArgument, what, "is NULL") }
    return p
}

/// Copies `text` (UTF-8 + NUL) into a caller buffer; *needed gets the bytes including the NUL.
func copyOut(_ text: String, _ buf: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?) -> Int32 {
    let bytes = Array(text.utf8)
    needed?.pointee = bytes.count + 1
    guard let buf, capacity >= bytes.count + 1 else {
        LastError.set("buffer too small: \(bytes.count + 1) bytes needed, \(capacity) given")
        return bufferTooSmall
    }
    for (i, b) in bytes.enumerated() { buf[i] = CChar(bitPattern: b) }
    buf[bytes.count] = 0
    return 0
}

/// Copies `values` into a caller buffer of `capacity` elements; *needed gets the count.
func copyOut<E>(_ values: [E], _ buf: UnsafeMutablePointer<E>?, _ capacity: Int, _ needed: UnsafeMutablePointer<Int>?, what: String) -> Int32 {
    needed?.pointee = values.count
    if values.isEmpty { return 0 }
    guard let buf, capacity >= values.count else {
        LastError.set("\(what) holds \(capacity) elements; \(values.count) are needed")
        return bufferTooSmall
    }
    for i in 0..<values.count { buf[i] = values[i] }
    return 0
}

/// A NUL-terminated UTF-8 C string as a Swift string (invalid UTF-8 is an error, not a repair).
func string(_ p: UnsafePointer<CChar>?, _ what: String) throws(LoomError) -> String {
    let p = try nonNull(p, what)
    var n = 0
    while p[n] != 0 { n += 1 }
    return try string(UnsafeRawPointer(p), n, what)
}

/// `count` bytes of UTF-8 as a Swift string.
func string(_ p: UnsafeRawPointer?, _ count: Int, _ what: String) throws(LoomError) -> String {
    guard count > 0 else { return "" }
    let p = try nonNull(p, what)
    let bytes = UnsafeBufferPointer(start: p.assumingMemoryBound(to: UInt8.self), count: count)
    guard let s = String(validating: bytes, as: UTF8.self) else { throw LoomError(.invalidArgument, what, "is not valid UTF-8") }
    return s
}

/// Checks that `batch` samples of `per` elements fit in memory arithmetic; returns batch·per.
func elements(_ batch: Int, _ per: Int, _ what: String) throws(LoomError) -> Int {
    guard batch >= 1 else { throw LoomError(.invalidArgument, "batch", "must be at least 1") }
    let (n, overflow) = batch.multipliedReportingOverflow(by: Swift.max(per, 1))
    guard !overflow, n <= Int.max / 8 else { throw LoomError(.invalidArgument, what, "batch \(batch) × \(per) is too large") }
    return n
}
