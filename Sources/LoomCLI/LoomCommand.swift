import ArgumentParser
import Loom
import LoomCore
import LoomNN
#if canImport(Glibc)
import Glibc
#endif

/// Prints one line to standard error.
func note(_ s: String) {
    var line = s + "\n"
    line.withUTF8 { p in _ = write(2, p.baseAddress, p.count) }
}

/// Writes a line to standard output without buffering surprises.
func out(_ s: String) { writeRaw(s + "\n") }

/// Writes text to standard output as it is (no newline; streaming).
func writeRaw(_ s: String) {
    var t = s
    t.withUTF8 { p in _ = write(1, p.baseAddress, p.count) }
}

/// The options of every command that reads a model or computes: `--threads` and `--max-memory`.
struct ThreadOption: ParsableArguments {
    // `.unconditional` takes the next argument even when it starts with "-", so `--threads -1`
    // gets the range message below instead of "Missing value".
    @Option(name: .long, parsing: .unconditional, help: "Number of threads, 1…1024 (default: all cores). Never changes a result.")
    var threads: Int?

    @Option(name: .long, help: ArgumentHelp("The memory budget: a model, file or batch that would need more is refused before anything is allocated (bytes, or with K, M, G, T). Default: half the physical memory, at most 16G.", valueName: "bytes"))
    var maxMemory: String?

    /// Applies `--max-memory` and returns the CPU context for `--threads`.
    func context() throws -> CPUContext {
        if let t = threads, t < 1 || t > 1024 {
            throw LoomError(.invalidArgument, "--threads", "must be between 1 and 1024, got \(t)")
        }
        if let m = maxMemory {
            guard let bytes = Limits.parseBytes(m) else {
                throw LoomError(.invalidArgument, "--max-memory", "expected a positive byte count such as 4G, 512M or 1073741824, got \"\(m)\"")
            }
            Limits.memoryBytes = bytes
        }
        return CPUContext(threads: threads)
    }
}

/// `--threads` and `--device` for the commands that compute with a network (run, train, generate,
/// embed): a GPU runs the matrix products, with the CPU's bits (docs/gpu.md).
struct ComputeOptions: ParsableArguments {
    @OptionGroup var threadOption: ThreadOption
    @Option(name: .long, help: "cpu, cuda or cuda:N (GPU matrix products; the same bits).")
    var device: String = "cpu"

    func context() throws -> ComputeContext {
        try Device(parsing: device).context(threads: try threadOption.context().threads)
    }
}

@main
struct LoomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loom",
        abstract: "Loom — a deterministic neural virtual machine: the same bits on every thread count, batch and platform.",
        subcommands: [Demo.self, Run.self, Train.self, Inspect.self, Verify.self, Bench.self, Import.self, Quantize.self, Generate.self, Embed.self, Devices.self, Correlate.self, Cluster.self, Graft.self, Search.self])

    static func main() {
        Limits.memoryBytes = Limits.machineMemoryBytes
        // Keep freed blocks for reuse instead of returning them to the kernel: a training step
        // allocates the same large buffers every step, and with glibc's defaults (blocks above
        // 128 KiB mapped and unmapped per call, the heap trimmed above 128 KiB) every step paid
        // for fresh zeroed pages — a third of a digits-CNN step was page faults
        // (docs/performance.md). Values are not affected, only where the memory comes from.
        CPUContext.keepFreedMemory()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let e as LoomError {
            note("error: \(e.description)")
            Glibc.exit(2)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                out(fullMessage(for: error))
                Glibc.exit(0)
            }
            let msg = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            note("error: \(msg) (see loom --help)")
            Glibc.exit(2)
        }
    }
}
