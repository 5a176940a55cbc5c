import Glibc
import LoomCore
import XCTest

/// Runs generated CUDA C on the CPU, so CI (no GPU) can compare the bits of every generated kernel
/// with the Swift definitions, not just check that it compiles.
///
/// The kernel source is compiled as C++20 by the toolchain's clang++ after a small shim: the
/// rounding intrinsics become the IEEE operations they name (`__fadd_rn(a, b)` is `a + b` on
/// SSE, `__fmaf_rn` is `std::fma`, contraction off), `__shared__` arrays are shared by the
/// threads of the block being run, and every CUDA thread of a block is a host thread, with
/// `__syncthreads` a block barrier and `__syncwarp` a barrier of its 32 lanes. Blocks run one
/// after another. What this cannot show — the GPU's own rounding hardware, NaN payloads, real
/// concurrency — the GPU run (`scripts/gpu-check`) checks.
enum CUDAEmulator {
    enum Argument {
        case input([UInt8])
        /// Read and written by the kernel; comes back with the outputs, in order.
        case readWrite([UInt8])
        case output(bytes: Int)
        case int(Int)
        case float(Float)
        case double(Double)
        case null
    }

    struct Job {
        var kernel: String
        var grid: (x: Int, y: Int)
        var threads: Int
        var arguments: [Argument]
    }

    static let shim = #"""
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>
using std::isnan; using std::isfinite; using std::fmin; using std::fmax; using std::rint; using std::trunc; using std::fabs;
#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __shared__ static
// Dynamic shared memory: a static array per kernel, shared by the block's threads (as __shared__).
#define LOOM_DYNAMIC_SHARED(type, name) static type name[16384]
#define __align__(n) __attribute__((aligned(n)))
struct dim3 { unsigned x = 1, y = 1, z = 1; };
thread_local dim3 threadIdx, blockIdx;
dim3 blockDim, gridDim;
thread_local std::barrier<>* emu_block;
thread_local std::barrier<>* emu_warp;
inline void __syncthreads() { emu_block->arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu_warp->arrive_and_wait(); }
struct alignas(16) float4 { float x, y, z, w; };
struct alignas(16) double2 { double x, y; };
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fsub_rn(float a, float b) { return a - b; }
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float __fsqrt_rn(float a) { return std::sqrt(a); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __dadd_rn(double a, double b) { return a + b; }
inline double __dsub_rn(double a, double b) { return a - b; }
inline double __dmul_rn(double a, double b) { return a * b; }
inline double __ddiv_rn(double a, double b) { return a / b; }
inline double __dsqrt_rn(double a) { return std::sqrt(a); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline float __double2float_rn(double d) { return (float)d; }
inline double __ll2double_rn(long long x) { return (double)x; }
inline double __ull2double_rn(unsigned long long x) { return (double)x; }
inline unsigned long long __umul64hi(unsigned long long a, unsigned long long b) { return (unsigned long long)(((unsigned __int128)a * b) >> 64); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline float __int_as_float(unsigned int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline float __uint_as_float(unsigned int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int i; std::memcpy(&i, &f, 4); return i; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
template <class F> void emu_launch(unsigned gx, unsigned gy, unsigned threads, F f) {
    gridDim = {gx, gy, 1};
    blockDim = {threads, 1, 1};
    for (unsigned by = 0; by < gy; by++) {
        for (unsigned bx = 0; bx < gx; bx++) {
            std::barrier<> block(threads);
            std::vector<std::unique_ptr<std::barrier<>>> warps;
            for (unsigned w = 0; w * 32 < threads; w++) warps.push_back(std::make_unique<std::barrier<>>(std::min(32u, threads - 32 * w)));
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < threads; t++) {
                ts.emplace_back([&, t, bx, by] {
                    threadIdx = {t, 0, 0}; blockIdx = {bx, by, 0};
                    emu_block = &block; emu_warp = warps[t / 32].get();
                    f();
                });
            }
            for (auto& t : ts) t.join();
        }
    }
}
// A byte buffer passed where a kernel takes a typed pointer.
struct emu_ptr { void* p; template <class T> operator T*() const { return (T*)p; } };
static std::vector<unsigned char> emu_read(const char* path) {
    FILE* f = std::fopen(path, "rb");
    if (!f) { std::perror(path); std::exit(3); }
    std::fseek(f, 0, SEEK_END); long n = std::ftell(f); std::fseek(f, 0, SEEK_SET);
    std::vector<unsigned char> v(n > 0 ? n : 1);
    if (n > 0 && std::fread(v.data(), 1, n, f) != (size_t)n) std::exit(4);
    std::fclose(f);
    return v;
}
static void emu_write(const char* path, const std::vector<unsigned char>& v, size_t n) {
    FILE* f = std::fopen(path, "wb");
    if (!f || std::fwrite(v.data(), 1, n, f) != n) std::exit(5);
    std::fclose(f);
}

"""#

    /// The toolchain's clang++ (next to swiftc), or nil.
    static var compiler: String? {
        for dir in (ProcessInfoLite.env("PATH") ?? "").split(separator: ":") {
            let p = dir + "/clang++"
            if ProcessInfoLite.fileExists(String(p)) { return String(p) }
        }
        return nil
    }

    /// Compiles `source` with the shim and runs `jobs` in order; returns each job's outputs (the
    /// `.output` arguments, in order).
    static func run(_ source: String, _ jobs: [Job]) throws -> [[[UInt8]]] {
        guard let cxx = compiler else {
            if ProcessInfoLite.env("LOOM_REQUIRE_NVRTC") == "1" { XCTFail("clang++ is required to emulate the kernels") }
            throw XCTSkip("no clang++ on PATH")
        }
        var template = Array("/tmp/loom-emu-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        let dir = String(cString: made)
        defer { _ = system("rm -rf '\(dir)'") }
        var main = "int main() {\n"
        for (j, job) in jobs.enumerated() {
            var decls = "", args = [String](), outs = [(String, Int)]()
            for (a, arg) in job.arguments.enumerated() {
                let name = "b\(j)_\(a)"
                switch arg {
                case .input(let bytes):
                    try write(bytes, "\(dir)/\(name).bin")
                    decls += "    auto \(name) = emu_read(\"\(dir)/\(name).bin\");\n"
                    args.append("emu_ptr{\(name).data()}")
                case .readWrite(let bytes):
                    try write(bytes, "\(dir)/\(name).bin")
                    decls += "    auto \(name) = emu_read(\"\(dir)/\(name).bin\");\n"
                    args.append("emu_ptr{\(name).data()}")
                    outs.append((name, bytes.count))
                case .output(let bytes):
                    decls += "    std::vector<unsigned char> \(name)(\(Swift.max(bytes, 1)));\n"
                    args.append("emu_ptr{\(name).data()}")
                    outs.append((name, bytes))
                case .int(let v): args.append("(long long)\(v)LL")
                case .float(let v): args.append("__int_as_float(0x\(String(v.bitPattern, radix: 16))u)")
                case .double(let v): args.append("__longlong_as_double((long long)0x\(String(v.bitPattern, radix: 16))ULL)")
                case .null: args.append("nullptr")
                }
            }
            main += "  {\n\(decls)    emu_launch(\(job.grid.x), \(job.grid.y), \(job.threads), [&] { \(job.kernel)(\(args.joined(separator: ", "))); });\n"
            for (name, bytes) in outs { main += "    emu_write(\"\(dir)/\(name).out\", \(name), \(bytes));\n" }
            main += "  }\n"
        }
        main += "  return 0;\n}\n"
        let program = shim + source + "\n" + main
        try write(Array(program.utf8), "\(dir)/k.cpp")
        let cmd = "'\(cxx)' -std=c++20 -O1 -ffp-contract=off -fno-fast-math -w -pthread '\(dir)/k.cpp' -o '\(dir)/k' > '\(dir)/cc.txt' 2>&1"
        guard system(cmd) == 0 else {
            let log = (try? String(decoding: read("\(dir)/cc.txt"), as: UTF8.self)) ?? ""
            XCTFail("emulated kernel did not compile:\n\(log.prefix(3000))")
            return []
        }
        guard system("'\(dir)/k'") == 0 else { XCTFail("emulated kernel run failed"); return [] }
        var results = [[[UInt8]]]()
        for (j, job) in jobs.enumerated() {
            var outs = [[UInt8]]()
            for (a, arg) in job.arguments.enumerated() {
                switch arg {
                case .output, .readWrite: outs.append(try read("\(dir)/b\(j)_\(a).out"))
                default: break
                }
            }
            results.append(outs)
        }
        return results
    }

    static func write(_ bytes: [UInt8], _ path: String) throws {
        guard let f = fopen(path, "wb") else { throw XCTSkip("cannot write \(path)") }
        defer { fclose(f) }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, bytes.count, f) }
    }

    static func read(_ path: String) throws -> [UInt8] {
        guard let f = fopen(path, "rb") else { throw XCTSkip("cannot read \(path)") }
        defer { fclose(f) }
        var out = [UInt8]()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { fread($0.baseAddress, 1, 65536, f) }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }
    static func values<T>(_ bytes: [UInt8], as: T.Type) -> [T] {
        bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: T.self)) }
    }
}

