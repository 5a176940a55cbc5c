#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoomCore

/// Files for the native API. Writes are atomic: a sibling temporary file is written, flushed and
/// renamed over the target, so a failure never leaves a partial file over a good one.
public enum FileIO {
    public static func read(_ path: String) throws(LoomError) -> [UInt8] {
        if path == "-" { return readStandardInput() }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw LoomError(.io, path, "cannot open: \(errnoText())") }
        defer { close(fd) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LoomError(.io, path, "read failed: \(errnoText())")
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    public static func readText(_ path: String) throws(LoomError) -> String {
        let bytes = try read(path)
        guard let s = String(validating: bytes, as: UTF8.self) else {
            throw LoomError(.io, path, "is not valid UTF-8 text")
        }
        return s
    }

    static func readStandardInput() -> [UInt8] {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
        }
        return out
    }

    public static func write(_ path: String, _ bytes: [UInt8]) throws(LoomError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw LoomError(.io, path, "cannot create: \(errnoText())") }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                let e = errnoText()
                close(fd); unlink(tmp)
                throw LoomError(.io, path, "write failed: \(e)")
            }
            off += n
        }
        if fsync(fd) != 0 || close(fd) != 0 {
            let e = errnoText()
            unlink(tmp)
            throw LoomError(.io, path, "write failed: \(e)")
        }
        if rename(tmp, path) != 0 {
            let e = errnoText()
            unlink(tmp)
            throw LoomError(.io, path, "cannot replace: \(e)")
        }
    }

    public static func write(_ path: String, text: String) throws(LoomError) {
        try write(path, Array(text.utf8))
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func errnoText() -> String { String(cString: strerror(errno)) }
}
