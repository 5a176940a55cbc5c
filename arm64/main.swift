// The aarch64 Linux reference program: runs every golden reference network (forward + 20 training
// steps, every dtype) on SerialContext and prints the `name hash` lines to stdout, exactly as
// Fixtures/golden/reference-hashes.txt has them. scripts/build-arm64 compiles it in ONE module
// with the Core sources (dropping the imports below), so the imports only serve editors.
import LoomCore
import LoomNN

@_extern(c, "loom_write")
func loom_write(_ fd: Int32, _ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int

func emit(_ fd: Int32, _ text: String) {
    var bytes = Array(text.utf8)
    bytes.withUnsafeMutableBufferPointer { buf in
        var done = 0
        while done < buf.count {
            let n = loom_write(fd, UnsafePointer(buf.baseAddress! + done), buf.count - done)
            if n <= 0 { return }
            done += n
        }
    }
}

/// Called by the C shim's `_start`; the return value is the process exit status.
@_cdecl("loom_main")
public func loom_main() -> Int32 {
    let ctx = SerialContext()
    do {
        let lines = try ReferenceNetworks.hashLines(context: ctx)
        emit(1, lines.joined(separator: "\n") + "\n")
        return 0
    } catch {
        emit(2, "error: " + error.description + "\n")
        return 1
    }
}
