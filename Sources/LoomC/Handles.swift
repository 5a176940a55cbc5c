import Glibc
import LoomCore
import LoomNN
import Loom

/// Live handles, so a NULL, freed or foreign pointer is an error instead of a crash: every call
/// looks its handle up here (under a lock) before touching it.
enum Registry {
    nonisolated(unsafe) static var lock = pthread_mutex_t()
    nonisolated(unsafe) static var live: [UInt: AnyObject] = [:]
    nonisolated(unsafe) static var initialized = false
    nonisolated(unsafe) static var once = pthread_once_t()

    static func setup() {
        pthread_once(&once) { pthread_mutex_init(&Registry.lock, nil) }
    }

    static func add(_ o: AnyObject) -> OpaquePointer {
        setup()
        let p = Unmanaged.passRetained(o).toOpaque()
        pthread_mutex_lock(&lock)
        live[UInt(bitPattern: p)] = o
        pthread_mutex_unlock(&lock)
        return OpaquePointer(p)
    }

    static func get<T: AnyObject>(_ p: OpaquePointer?, as: T.Type, what: String) throws(LoomError) -> T {
        setup()
        guard let p else { throw LoomError(.invalidArgument, what, "is NULL") }
        pthread_mutex_lock(&lock)
        let o = live[UInt(bitPattern: UnsafeRawPointer(p))]
        pthread_mutex_unlock(&lock)
        guard let obj = o as? T else { throw LoomError(.invalidArgument, what, "is not a live \(what) (freed, or never created)") }
        return obj
    }

    /// Releases a handle; false when it is not live (double free is then a no-op, reported).
    static func remove(_ p: OpaquePointer?) -> Bool {
        setup()
        guard let p else { return true }
        pthread_mutex_lock(&lock)
        let o = live.removeValue(forKey: UInt(bitPattern: UnsafeRawPointer(p)))
        pthread_mutex_unlock(&lock)
        guard o != nil else { return false }
        Unmanaged<AnyObject>.fromOpaque(UnsafeRawPointer(p)).release()
        return true
    }
}

/// The calling thread's last error message (a malloc'd C string owned by the thread key).
enum LastError {
    nonisolated(unsafe) static var key = pthread_key_t()
    nonisolated(unsafe) static var once = pthread_once_t()
    static let empty: StaticString = ""

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
}

final class NetworkHandle {
    var network: AnyNetwork
    var context: CPUContext
    init(_ n: AnyNetwork) { network = n; context = CPUContext(threads: 1) }
}

final class TrainerHandle {
    enum Kind { case f32(Trainer<Float>), f64(Trainer<Double>) }
    let owner: NetworkHandle
    let trainer: Kind
    init(owner: NetworkHandle, trainer: Kind) { self.owner = owner; self.trainer = trainer }
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
    }
}

let bufferTooSmall: Int32 = 10

/// Runs `body`, mapping a thrown LoomError to its status code.
@inline(__always) func guarded(_ body: () throws(LoomError) -> Int32) -> Int32 {
    do { return try body() } catch { return status(error) }
}

/// Copies `text` (UTF-8 + NUL) into a caller buffer.
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

func string(_ p: UnsafePointer<CChar>?, _ what: String) throws(LoomError) -> String {
    guard let p else { throw LoomError(.invalidArgument, what, "is NULL") }
    let n = strlen(p)
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(p).assumingMemoryBound(to: UInt8.self), count: n)
    guard let s = String(validating: bytes, as: UTF8.self) else { throw LoomError(.invalidArgument, what, "is not valid UTF-8") }
    return s
}
