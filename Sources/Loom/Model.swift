import LoomCore
import LoomNN

/// The native entry points for models on disk.
extension AnyNetwork {
    /// Reads an IR file or a saved model.
    public static func load(path: String) throws(LoomError) -> AnyNetwork {
        try load(json: try FileIO.readText(path), source: path)
    }

    /// Writes the model (IR, weights, optimizer state) atomically.
    public func save(to path: String) throws(LoomError) {
        try FileIO.write(path, text: saved())
    }
}
