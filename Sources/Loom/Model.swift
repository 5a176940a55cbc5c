import LoomCore
import LoomNN

/// The file formats of a saved model, chosen by the path's extension: `.json` (IR, weights and
/// optimizer state, docs/ir.md) or `.safetensors` (IR in the metadata and every parameter;
/// no optimizer state, docs/formats.md). Any other extension is refused rather than guessed, so
/// `--save model.safetensors` never writes JSON under that name.
public enum ModelFileFormat: Sendable, Equatable {
    case json, safetensors

    /// The format `path` names; `option` (e.g. `--save`) is where the error points.
    public init(path: String, option: String) throws(LoomError) {
        if path.hasSuffix(".json") { self = .json; return }
        if path.hasSuffix(".safetensors") { self = .safetensors; return }
        throw LoomError(.invalidArgument, option, "\"\(path)\" has no model file extension: end it in .json (IR, weights, optimizer state) or .safetensors (IR and weights)")
    }
}

/// The native entry points for models on disk.
extension AnyNetwork {
    /// Reads an IR file or a saved model: JSON, or safetensors written by Loom (by extension).
    public static func load(path: String) throws(LoomError) -> AnyNetwork {
        if path.hasSuffix(".safetensors") { return try load(safetensorsPath: path) }
        return try load(json: try FileIO.readText(path), source: path)
    }

    /// Writes the model (IR, weights, optimizer state) as JSON, atomically.
    public func save(to path: String) throws(LoomError) {
        try FileIO.write(path, text: saved())
    }

    /// Writes the model atomically in the format its extension names (`ModelFileFormat`).
    public func save(to path: String, option: String) throws(LoomError) {
        switch self {
        case .f32(let n, let o): try n.save(to: path, optimizer: o, option: option)
        case .f64(let n, let o): try n.save(to: path, optimizer: o, option: option)
        }
    }
}

extension Network {
    /// Writes the network atomically in the format the extension of `path` names
    /// (`ModelFileFormat`; `option` is where an error points). The optimizer state goes into JSON
    /// only.
    public func save(to path: String, optimizer: Optimizer<T>? = nil, option: String) throws(LoomError) {
        switch try ModelFileFormat(path: path, option: option) {
        case .json: try FileIO.write(path, text: ModelCodec.encode(self, optimizer: optimizer))
        case .safetensors: try saveSafetensors(to: path)
        }
    }
}
