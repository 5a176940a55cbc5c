/// Every error Loom reports: what went wrong and where.
///
/// `path` names the place in the user's input: a JSON path such as `layers[3].units`, a file
/// name, or an argument. `description` is the one line the CLI prints.
public struct LoomError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case invalidJSON = "invalid JSON"
        case invalidIR = "invalid network"
        case unsupportedVersion = "unsupported version"
        case shapeMismatch = "shape mismatch"
        case invalidInput = "invalid input"
        case nonFinite = "non-finite value"
        case invalidModel = "invalid model file"
        case io = "I/O error"
        case invalidArgument = "invalid argument"
        /// A compute device (GPU) is missing, unusable or failed: the message says which and what to do.
        case device = "device error"
    }
    public var kind: Kind
    public var path: String
    public var message: String

    public init(_ kind: Kind, _ path: String, _ message: String) {
        self.kind = kind; self.path = path; self.message = message
    }

    public var description: String {
        path.isEmpty ? "\(kind.rawValue): \(message)" : "\(kind.rawValue) at \(path): \(message)"
    }
}
