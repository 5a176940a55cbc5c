#if canImport(Glibc)
import Glibc
#endif
import LoomCore

extension Limits {
    /// The memory budget that fits this machine: half its physical memory, or `defaultMemoryBytes`
    /// where that is smaller or the size is unknown. `loom` starts with it.
    public static var machineMemoryBytes: Int {
        #if canImport(Glibc)
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        if pages > 0, pageSize > 0, let total = product(pages, pageSize) {
            return Swift.min(total / 2, defaultMemoryBytes)
        }
        #endif
        return defaultMemoryBytes
    }

    /// Parses a byte count as a person writes it: `1073741824`, `512M`, `16G`, `1T` (binary
    /// units, an optional `i`/`iB`/`B` after the letter). Nil for anything else, zero, or a size
    /// that overflows.
    public static func parseBytes(_ text: String) -> Int? {
        let kib = 1 << 10, mib = 1 << 20, gib = 1 << 30, tib = 1 << 40
        let suffixes: [(String, Int)] = [
            ("TiB", tib), ("GiB", gib), ("MiB", mib), ("KiB", kib), ("TB", tib), ("GB", gib), ("MB", mib), ("KB", kib),
            ("Ti", tib), ("Gi", gib), ("Mi", mib), ("Ki", kib), ("T", tib), ("G", gib), ("M", mib), ("K", kib), ("k", kib), ("B", 1)]
        var digits = Substring(text), scale = 1
        for (suffix, s) in suffixes where text.hasSuffix(suffix) {
            digits = text.dropLast(suffix.count); scale = s; break
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits), n > 0 else { return nil }
        return product(n, scale)
    }
}
