/// Unicode normalization forms NFD, NFC, NFKD and NFKC over arrays of scalar values (UAX #15).
///
/// Decompositions and compositions come from `NormalizationData` (generated from Python's
/// unicodedata by scripts/fixtures/unicode_tables.py), combining classes from the standard
/// library, Hangul syllables from the algorithm in the Unicode standard (§3.12).
public enum UnicodeNormalization {
    public enum Form: Sendable { case nfd, nfc, nfkd, nfkc }

    public static func normalize(_ text: [UInt32], _ form: Form) -> [UInt32] {
        switch form {
        case .nfd: return decompose(text, compatibility: false)
        case .nfkd: return decompose(text, compatibility: true)
        case .nfc: return compose(decompose(text, compatibility: false))
        case .nfkc: return compose(decompose(text, compatibility: true))
        }
    }

    public static func normalize(_ s: String, _ form: Form) -> String {
        var v = String.UnicodeScalarView()
        for x in normalize(s.unicodeScalars.map { $0.value }, form) { v.append(Unicode.Scalar(x)!) }
        return String(v)
    }

    // MARK: Hangul (Unicode §3.12)

    static let sBase: UInt32 = 0xAC00, lBase: UInt32 = 0x1100, vBase: UInt32 = 0x1161, tBase: UInt32 = 0x11A7
    static let lCount: UInt32 = 19, vCount: UInt32 = 21, tCount: UInt32 = 28
    static let nCount = vCount * tCount, sCount = lCount * vCount * tCount

    /// Full decomposition followed by the canonical ordering of combining marks.
    public static func decompose(_ text: [UInt32], compatibility: Bool) -> [UInt32] {
        let tables = Tables.shared
        var out = [UInt32]()
        out.reserveCapacity(text.count)
        for c in text {
            if c < 0xC0 && !(compatibility && c >= 0xA0) {
                out.append(c)
            } else if c >= sBase && c < sBase + sCount {
                let s = c - sBase
                out.append(lBase + s / nCount)
                out.append(vBase + (s % nCount) / tCount)
                if s % tCount != 0 { out.append(tBase + s % tCount) }
            } else if compatibility, let r = tables.compatibility[c] {
                out.append(contentsOf: tables.storage[Int(r.start)..<Int(r.start + r.count)])
            } else if let r = tables.canonical[c] {
                out.append(contentsOf: tables.storage[Int(r.start)..<Int(r.start + r.count)])
            } else {
                out.append(c)
            }
        }
        // Canonical ordering: a stable sort by combining class of every run of non-starters.
        var i = 0
        while i < out.count {
            if UnicodeProps.combiningClass(out[i]) == 0 { i += 1; continue }
            var j = i
            while j < out.count && UnicodeProps.combiningClass(out[j]) != 0 { j += 1 }
            if j - i > 1 {
                // Insertion sort (stable); runs are short.
                for k in (i + 1)..<j {
                    let x = out[k], cx = UnicodeProps.combiningClass(x)
                    var m = k
                    while m > i && UnicodeProps.combiningClass(out[m - 1]) > cx { out[m] = out[m - 1]; m -= 1 }
                    out[m] = x
                }
            }
            i = j
        }
        return out
    }

    /// The canonical composition algorithm applied to a decomposed string.
    public static func compose(_ text: [UInt32]) -> [UInt32] {
        guard !text.isEmpty else { return text }
        let tables = Tables.shared
        var out = [UInt32]()
        out.reserveCapacity(text.count)
        var starter = -1        // index in out of the last starter
        var lastClass: Int = -1 // combining class of the last character appended after the starter
        for c in text {
            let cc = Int(UnicodeProps.combiningClass(c))
            if starter >= 0 {
                let blocked = lastClass != -1 && (lastClass == 0 || lastClass >= cc)
                if !blocked, let composed = composePair(out[starter], c, tables) {
                    out[starter] = composed
                    continue
                }
            }
            if cc == 0 {
                starter = out.count
                lastClass = -1
            } else {
                lastClass = cc
            }
            out.append(c)
        }
        return out
    }

    static func composePair(_ a: UInt32, _ b: UInt32, _ tables: Tables) -> UInt32? {
        if a >= lBase && a < lBase + lCount && b >= vBase && b < vBase + vCount {
            return sBase + ((a - lBase) * vCount + (b - vBase)) * tCount
        }
        if a >= sBase && a < sBase + sCount && (a - sBase) % tCount == 0 && b > tBase && b < tBase + tCount {
            return a + (b - tBase)
        }
        return tables.composition[UInt64(a) << 32 | UInt64(b)]
    }

    final class Tables: Sendable {
        let storage: [UInt32]
        let canonical: [UInt32: (start: Int32, count: Int32)]
        let compatibility: [UInt32: (start: Int32, count: Int32)]
        let composition: [UInt64: UInt32]

        static let shared = Tables()

        init() {
            var storage = [UInt32]()
            canonical = Tables.decode(NormalizationData.canonical, &storage)
            compatibility = Tables.decode(NormalizationData.compatibility, &storage)
            var comp = [UInt64: UInt32]()
            Tables.parse(NormalizationData.composition) { key, values in
                // "A B=C": key holds A, values [B, C].
                comp[UInt64(key) << 32 | UInt64(values[0])] = values[1]
            }
            composition = comp
            self.storage = storage
        }

        static func decode(_ text: StaticString, _ storage: inout [UInt32]) -> [UInt32: (start: Int32, count: Int32)] {
            var map = [UInt32: (start: Int32, count: Int32)]()
            parse(text) { key, values in
                map[key] = (Int32(storage.count), Int32(values.count))
                storage.append(contentsOf: values)
            }
            return map
        }

        /// Entries "K=V V;" (or "K V=C;" for compositions: then values = [V, C]) in hex.
        static func parse(_ text: StaticString, _ body: (UInt32, [UInt32]) -> Void) {
            text.withUTF8Buffer { buf in
                var key: UInt32 = 0
                var values = [UInt32]()
                var cur: UInt32 = 0
                var inKey = true
                var haveDigit = false
                func flushNumber() {
                    guard haveDigit else { return }
                    if inKey && values.isEmpty && key == 0 { key = cur } else { values.append(cur) }
                    cur = 0; haveDigit = false
                }
                for b in buf {
                    switch b {
                    case 0x30...0x39: cur = cur << 4 | UInt32(b - 0x30); haveDigit = true
                    case 0x41...0x46: cur = cur << 4 | UInt32(b - 0x41 + 10); haveDigit = true
                    case 0x20: flushNumber()
                    case 0x3D: flushNumber(); inKey = false
                    case 0x3B:
                        flushNumber()
                        body(key, values)
                        key = 0; values.removeAll(keepingCapacity: true); inKey = true
                    default: break
                    }
                }
                flushNumber()
                if !values.isEmpty { body(key, values) }
            }
        }
    }
}
