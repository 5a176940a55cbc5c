/// Chat prompts: the two formats in wide use, chosen from a model's `tokenizer.chat_template`.
///
/// - ChatML (`<|im_start|>role\ncontent<|im_end|>\n`, SmolLM, Qwen, …). When the template adds
///   a system message of its own before a conversation that has none (SmolLM2's does), the same
///   text is extracted from the template and added.
/// - Llama 3 (`<|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|>`).
///
/// Templates are recognised by their markers; this is not a Jinja interpreter (docs/llm.md).
public struct ChatTemplate: Sendable, Equatable {
    public enum Format: String, Sendable { case chatML = "chatml", llama3 = "llama3" }
    public var format: Format
    /// The system message the template inserts when the conversation has none.
    public var defaultSystem: String?

    public init(format: Format, defaultSystem: String? = nil) { self.format = format; self.defaultSystem = defaultSystem }

    /// From a model's template text (nil or unrecognised: ChatML without a default system message).
    public init(template: String?) {
        guard let t = template else { self.init(format: .chatML); return }
        if t.contains("<|start_header_id|>") { self.init(format: .llama3); return }
        var system: String? = nil
        let marker = "<|im_start|>system\n"
        if let r = t.firstRange(of: marker), let end = t[r.upperBound...].firstRange(of: "<|im_end|>") {
            let text = String(t[r.upperBound..<end.lowerBound])
            // A literal (not a Jinja expression) is a default message.
            if !text.contains("{{") && !text.contains("{%") && !text.contains("'") { system = text }
        }
        self.init(format: .chatML, defaultSystem: system)
    }

    /// The prompt for `messages` (role, content), ending with the assistant's turn opened.
    public func render(_ messages: [(role: String, content: String)]) -> String {
        var out = ""
        var msgs = messages
        if let s = defaultSystem, msgs.first?.role != "system" { msgs.insert(("system", s), at: 0) }
        switch format {
        case .chatML:
            for m in msgs { out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n" }
            out += "<|im_start|>assistant\n"
        case .llama3:
            out = "<|begin_of_text|>"
            for m in msgs { out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>" }
            out += "<|start_header_id|>assistant<|end_header_id|>\n\n"
        }
        return out
    }
}
