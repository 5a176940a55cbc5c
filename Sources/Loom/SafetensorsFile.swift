import LoomCore
import LoomNN

/// Safetensors files on disk: opened by mapping (tensor data is never copied until it is
/// decoded), written atomically (a sibling temporary file renamed over the target, so a failure
/// never leaves a partial file over a good one). Format: docs/formats.md.
public enum SafetensorsFile {
    /// Maps `path` and checks its header.
    public static func open(_ path: String) throws(LoomError) -> Safetensors {
        try Safetensors(MappedFile.open(path), source: path)
    }

    /// Writes the file `writer` describes, atomically. The bytes are built in memory first, so an
    /// error in them never touches `path`.
    public static func write(_ writer: SafetensorsWriter, to path: String) throws(LoomError) {
        try FileIO.write(path, writer.serialized())
    }

    /// Lines describing a safetensors file for `loom inspect`: sizes, metadata (long values cut
    /// to `maxValueLength` characters), then one line per tensor in file order with its dtype,
    /// shape, element and byte counts and data offsets.
    public static func describe(_ path: String, maxValueLength: Int = 160) throws(LoomError) -> [String] {
        try open(path).descriptionLines(maxValueLength: maxValueLength)
    }
}

extension Network {
    /// Saves every parameter (and the IR) as safetensors at `path`, atomically.
    public func saveSafetensors(to path: String, options: SafetensorsCodec.Options = SafetensorsCodec.Options()) throws(LoomError) {
        try FileIO.write(path, SafetensorsCodec.encode(self, options: options))
    }

    /// Loads every parameter from the safetensors file at `path` (mapped; names and shapes must
    /// match; nothing changes unless every tensor is valid).
    public func loadSafetensors(from path: String) throws(LoomError) {
        try SafetensorsCodec.load(SafetensorsFile.open(path), into: self)
    }
}

extension AnyNetwork {
    /// Builds and loads the network of a safetensors file written by Loom (IR in `loom.ir`).
    public static func load(safetensorsPath path: String) throws(LoomError) -> AnyNetwork {
        try load(safetensors: SafetensorsFile.open(path))
    }

    /// Saves the parameters (and the IR) as safetensors at `path`, atomically.
    public func saveSafetensors(to path: String, options: SafetensorsCodec.Options = SafetensorsCodec.Options()) throws(LoomError) {
        try FileIO.write(path, safetensors(options: options))
    }
}
