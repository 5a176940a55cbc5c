/// A token vocabulary: token text ↔ id, keyed by the exact UTF-8 bytes (never by Unicode
/// canonical equivalence, which Swift's `String` equality uses: a vocabulary may hold both
/// "é" and "e\u{301}").
///
/// Storage is one byte arena and an open-addressing hash table (FNV-1a, no random seed), so
/// lookups of a scalar sequence need no allocation.
public struct TokenTable: Sendable {
    private var arena: [UInt8] = []
    /// Start of each entry's bytes in `arena`; entry k spans starts[k]..<starts[k+1].
    private var starts: [Int32] = [0]
    private var entryIds: [Int32] = []
    private var slots: [Int32] = []   // entry index + 1, 0 = empty
    /// Token text by id (nil for ids with no token).
    public private(set) var tokens: [String?] = []

    public init() {}

    /// The most UTF-8 bytes all the texts may hold together (offsets are 32-bit); loaders check it.
    public static let maxBytes = Int(Int32.max)

    public var count: Int { entryIds.count }
    /// One more than the largest id.
    public var idLimit: Int { tokens.count }

    public func token(_ id: Int) -> String? {
        id >= 0 && id < tokens.count ? tokens[id] : nil
    }

    /// Adds `text` with `id`; returns false if the text is already present (it keeps its first
    /// id; `token(id)` still gives the text). Requires `0 <= id < Tokenizer.idLimit` and the texts
    /// to stay within `maxBytes` in all: loaders of files check both first.
    @discardableResult
    public mutating func insert(_ text: String, id: Int) -> Bool {
        precondition(id >= 0 && id < Tokenizer.idLimit, "token id out of range")
        precondition(text.utf8.count < TokenTable.maxBytes - arena.count, "token texts too long in all")
        if id >= tokens.count { tokens.append(contentsOf: [String?](repeating: nil, count: id + 1 - tokens.count)) }
        if tokens[id] == nil { tokens[id] = text }
        if lookup(utf8: Array(text.utf8)) != nil { return false }
        arena.append(contentsOf: text.utf8)
        starts.append(Int32(arena.count))
        entryIds.append(Int32(id))
        if entryIds.count * 2 > slots.count { rehash() } else { place(entryIds.count - 1) }
        return true
    }

    private mutating func rehash() {
        var size = 64
        while size < entryIds.count * 3 { size *= 2 }
        slots = [Int32](repeating: 0, count: size)
        for k in 0..<entryIds.count { place(k) }
    }

    private mutating func place(_ k: Int) {
        let mask = slots.count - 1
        var h = TokenTable.hash(arena[Int(starts[k])..<Int(starts[k + 1])])
        while slots[Int(truncatingIfNeeded: h) & mask] != 0 { h &+= 1 }
        slots[Int(truncatingIfNeeded: h) & mask] = Int32(k + 1)
    }

    @inline(__always)
    static func hash<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h ^ (h >> 31)
    }

    /// The id of the token with these UTF-8 bytes.
    public func lookup(utf8 bytes: [UInt8]) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count - 1
        var h = TokenTable.hash(bytes)
        while true {
            let e = Int(slots[Int(truncatingIfNeeded: h) & mask])
            if e == 0 { return nil }
            let k = e - 1
            let s = Int(starts[k]), t = Int(starts[k + 1])
            if t - s == bytes.count {
                var same = true
                var i = 0
                while i < bytes.count { if arena[s + i] != bytes[i] { same = false; break }; i += 1 }
                if same { return Int(entryIds[k]) }
            }
            h &+= 1
        }
    }

    public func lookup(_ text: String) -> Int? { lookup(utf8: Array(text.utf8)) }

    /// The id of the token spelled by `scalars` (reusing `scratch` for the UTF-8 bytes).
    @inline(__always)
    public func lookup(scalars: ArraySlice<UInt32>, scratch: inout [UInt8]) -> Int? {
        scratch.removeAll(keepingCapacity: true)
        for c in scalars { TokenTable.appendUTF8(c, to: &scratch) }
        return lookup(utf8: scratch)
    }

    @inline(__always)
    static func appendUTF8(_ c: UInt32, to out: inout [UInt8]) {
        if c < 0x80 {
            out.append(UInt8(c))
        } else if c < 0x800 {
            out.append(UInt8(0xC0 | (c >> 6))); out.append(UInt8(0x80 | (c & 0x3F)))
        } else if c < 0x10000 {
            out.append(UInt8(0xE0 | (c >> 12))); out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (c >> 18))); out.append(UInt8(0x80 | ((c >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((c >> 6) & 0x3F))); out.append(UInt8(0x80 | (c & 0x3F)))
        }
    }
}
