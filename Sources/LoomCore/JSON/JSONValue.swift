/// A JSON document tree. Objects keep their members in document order; numbers keep their text.
///
/// Equality is structural: strings and keys compare by their UTF-8 bytes, numbers by their text,
/// object members in order.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member named `key` of an object (nil for a missing key or a non-object).
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` of an array (nil when out of range or not an array).
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, index >= 0, index < a.count { return a[index] }
        return nil
    }

    public var isNull: Bool { if case .null = self { return true }; return false }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var numberValue: JSONNumber? { if case .number(let n) = self { return n }; return nil }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }

    /// A short name of the kind of value, for error messages ("null", "boolean", "number",
    /// "string", "array", "object").
    public var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return JSONObject.sameKey(a, b)
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            for i in 0..<a.count where a[i] != b[i] { return false }
            return true
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    /// Convenience builders. The floating-point ones return nil for NaN and infinities.
    public static func number(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    public static func number(_ value: Double) -> JSONValue? { JSONNumber(value).map { .number($0) } }
    public static func number(_ value: Float) -> JSONValue? { JSONNumber(value).map { .number($0) } }
}

/// A JSON object: members in document (or insertion) order, looked up by key.
///
/// Keys are compared by their UTF-8 bytes (not by Unicode canonical equivalence), so lookups are
/// deterministic and cheap. Large objects get a hash index over the UTF-8 bytes (FNV-1a, no
/// random seed).
public struct JSONObject: Equatable, Sendable {
    public private(set) var members: [(key: String, value: JSONValue)] = []
    /// Open-addressing table of member index + 1 (0 = empty); empty while the object is small.
    private var table: [Int32] = []

    private static let indexThreshold = 12

    public init() {}

    /// Builds an object from pairs in order; a later duplicate key replaces the earlier value
    /// (in the earlier position).
    public init(_ pairs: [(String, JSONValue)]) {
        for (k, v) in pairs { set(k, v) }
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map { $0.key } }

    public subscript(key: String) -> JSONValue? {
        guard let i = index(of: key) else { return nil }
        return members[i].value
    }

    public func contains(_ key: String) -> Bool { index(of: key) != nil }

    /// Sets `key` to `value`: an existing key keeps its position, a new key is appended.
    public mutating func set(_ key: String, _ value: JSONValue) {
        if let i = index(of: key) {
            members[i].value = value
        } else {
            appendNew(key, value)
        }
    }

    /// Removes `key` (keeping the order of the others); returns its value if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let i = index(of: key) else { return nil }
        let v = members.remove(at: i).value
        rebuildTable()
        return v
    }

    /// The position of `key` in `members`.
    public func index(of key: String) -> Int? {
        if table.isEmpty {
            for i in 0..<members.count where JSONObject.sameKey(members[i].key, key) { return i }
            return nil
        }
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: JSONObject.hash(key)) & mask
        while true {
            let entry = Int(table[slot])
            if entry == 0 { return nil }
            if JSONObject.sameKey(members[entry - 1].key, key) { return entry - 1 }
            slot = (slot + 1) & mask
        }
    }

    /// Appends a member whose key the caller knows to be new (used by the parser after its own
    /// duplicate check).
    mutating func appendNew(_ key: String, _ value: JSONValue) {
        members.append((key: key, value: value))
        if members.count > JSONObject.indexThreshold {
            if members.count * 2 > table.count {
                rebuildTable()
            } else {
                insertIntoTable(members.count - 1)
            }
        }
    }

    private mutating func rebuildTable() {
        if members.count <= JSONObject.indexThreshold { table = []; return }
        var size = 32
        while size < members.count * 4 { size *= 2 }
        table = [Int32](repeating: 0, count: size)
        for i in 0..<members.count { insertIntoTable(i) }
    }

    private mutating func insertIntoTable(_ i: Int) {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: JSONObject.hash(members[i].key)) & mask
        while table[slot] != 0 { slot = (slot + 1) & mask }
        table[slot] = Int32(truncatingIfNeeded: i + 1)
    }

    static func sameKey(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && a.utf8.elementsEqual(b.utf8)
    }

    static func hash(_ key: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in key.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// Equal when the members are equal in the same order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for i in 0..<lhs.members.count {
            guard sameKey(lhs.members[i].key, rhs.members[i].key),
                  lhs.members[i].value == rhs.members[i].value else { return false }
        }
        return true
    }
}

/// A parse error with the 1-based line and column (in Unicode scalars) where it was found.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var line: Int
    public var column: Int
    /// Byte offset of the problem in the UTF-8 input.
    public var offset: Int

    public init(message: String, line: Int, column: Int, offset: Int = 0) {
        self.message = message
        self.line = line
        self.column = column
        self.offset = offset
    }

    /// `line 3, column 14: expected ',' or '}' after object member`
    public var description: String { "line \(line), column \(column): \(message)" }
}
