import LoomCore

/// The 8×8 handwritten digits set of scikit-learn (1797 samples, 10 classes), embedded so the
/// demo needs no files. Pixels are scaled from 0…16 to 0…1.
public enum Digits {
    public static func load<T: LoomFloat>(as: T.Type) -> (inputs: Tensor<T>, labels: Tensor<T>) {
        let text = String(decoding: base64.utf8.filter { $0 != 10 && $0 != 32 }, as: UTF8.self)
        guard let bytes = try? Base64.decode(text), bytes.count == sampleCount * 65 else {
            fatalError("the embedded digits data is corrupt (regenerate with scripts/fixtures/embed_digits.py)")
        }
        var x = [T](), y = [T]()
        x.reserveCapacity(sampleCount * 64)
        for i in 0..<sampleCount {
            for j in 0..<64 { x.append(T(Double(bytes[i * 65 + j])) / 16) }
            y.append(T(Double(bytes[i * 65 + 64])))
        }
        return (Tensor(uncheckedShape: [sampleCount, 64], data: x), Tensor(uncheckedShape: [sampleCount], data: y))
    }
}
