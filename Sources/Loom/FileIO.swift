#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LoomCore

/// Files for the native API. Reads take regular files only (a FIFO, a device or a directory is
/// refused at once instead of blocking or reading forever) no larger than the memory budget.
/// Writes are atomic: a sibling temporary file is written, flushed and renamed over the target,
/// so a failure never leaves a partial file over a good one; the temporary files of writers that
/// died (`kill -9`) are removed by the next write to the same path.
public enum FileIO {
    /// Opens `path` for reading if it is a regular file: the descriptor and the file's size.
    /// `O_NONBLOCK` keeps the open itself from waiting for a FIFO's writer.
    static func openRegular(_ path: String) throws(LoomError) -> (fd: Int32, size: Int) {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw LoomError(.io, path, "cannot open: \(errnoText())") }
        var st = stat()
        guard fstat(fd, &st) == 0 else { let e = errnoText(); close(fd); throw LoomError(.io, path, "cannot stat: \(e)") }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw LoomError(.io, path, "is not a regular file (a \(fileKind(st.st_mode)))")
        }
        return (fd, Int(st.st_size))
    }

    static func fileKind(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        default: return "special file"
        }
    }

    public static func read(_ path: String) throws(LoomError) -> [UInt8] {
        if path == "-" { return try readStandardInput() }
        let (fd, size) = try openRegular(path)
        defer { close(fd) }
        try Limits.checkMemory(size, for: "reading this \(size)-byte file", path: path)
        var out = [UInt8]()
        out.reserveCapacity(size)
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw LoomError(.io, path, "read failed: \(errnoText())")
            }
            if n == 0 { break }
            out.append(contentsOf: buf[0..<n])
            // A file that grows while it is read is still bounded by the budget.
            if out.count > Limits.memoryBytes { try Limits.checkMemory(out.count, for: "reading this growing file", path: path) }
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

    static func readStandardInput() throws(LoomError) -> [UInt8] {
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out.append(contentsOf: buf[0..<n])
            if out.count > Limits.memoryBytes { try Limits.checkMemory(out.count, for: "standard input", path: "-") }
        }
        return out
    }

    /// The temporary file of an atomic write of `path` by process `pid`.
    static func temporaryPath(_ path: String, pid: Int32) -> String { path + ".tmp-\(pid)" }

    /// Removes the temporary files that writers of `path` left when they died (`path.tmp-PID`
    /// whose PID is no running process), so a `kill -9` during a save leaves no litter for long.
    static func removeStaleTemporaries(of path: String) {
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let prefix = base + ".tmp-"
        guard let d = opendir(dir) else { return }
        defer { closedir(d) }
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            // kill(pid, 0) fails with ESRCH only when no such process exists.
            if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + name) }
        }
    }

    public static func write(_ path: String, _ bytes: [UInt8]) throws(LoomError) {
        removeStaleTemporaries(of: path)
        let tmp = temporaryPath(path, pid: getpid())
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
