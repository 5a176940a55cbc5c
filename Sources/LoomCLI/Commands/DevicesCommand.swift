import ArgumentParser
import Loom
import LoomCore
import LoomGPU

extension LoomCommand {
    struct Devices: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the compute devices: the CPU, and the NVIDIA GPUs the CUDA driver and NVRTC can use.",
            discussion: "Exit status 2 with one line saying what is missing when --require-gpu is given and no GPU can be used.")

        @Flag(name: .long, help: "Fail (exit 2) when no GPU can be used.") var requireGPU = false

        func run() throws {
            var gpu: String
            do {
                let d = try CUDADevice(index: 0)
                let v = d.driverVersion, nv = d.nvrtc.version
                gpu = "cuda:0: \(d.name), compute capability \(d.capability.0).\(d.capability.1) (\(d.arch)), "
                    + "\(d.memoryBytes / (1 << 20)) MiB, driver CUDA \(v / 1000).\(v % 1000 / 10), NVRTC \(nv.0).\(nv.1)"
            } catch {
                if requireGPU { throw error }
                gpu = "cuda: none (\(error.description))"
            }
            out("cpu: \(CPUContext(threads: nil).threads) threads")
            out(gpu)
        }
    }
}
