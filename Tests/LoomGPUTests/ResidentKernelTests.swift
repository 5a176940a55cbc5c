import XCTest
import LoomCore
import LoomNN
import LoomGPU
import Loom

/// The device-resident kernels without a GPU (CI): every formula a network can need (each
/// activation forward and backward, each optimizer update, clipping, the residual sum), the DetMath
/// port and the layer kernels compile with NVRTC for Hopper and Ampere in both element types; the
/// printed formulas use one correctly rounded intrinsic per node. The GPU run (scripts/gpu-check)
/// compares their results with the CPU's bits.
final class ResidentKernelTests: XCTestCase {
    static var programs: [ScalarProgram] {
        let acts: [Activation] = [.linear, .relu, .scaledReLU(scale: 1.1), .leakyReLU(slope: 0.01), .sigmoid, .tanh,
                                  .softplus(threshold: 20), .gelu, .geluTanh, .silu, .mish, .elu(alpha: 1), .selu]
        let optimizers: [OptimizerSpec] = [
            .sgd(lr: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0),
            .sgd(lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true, weightDecay: 0.01),
            .adamw(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01),
            .rmsprop(lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0.5, centered: true, weightDecay: 0.1),
            .rmsprop(lr: 0.01, alpha: 0.99, eps: 1e-8, momentum: 0, centered: false, weightDecay: 0)]
        return acts.flatMap { [$0.forwardProgram, $0.backwardProgram] } + optimizers.map(\.updateProgram)
            + [GradientClip.clampProgram, GradientClip.scaleProgram, ElementwiseProgram.sum, ElementwiseProgram.product, ElementwiseProgram.scale, DropoutLayer<Float>.maskProgram,
               SwiGLULayer<Float>.gatedProgram, SwiGLULayer<Float>.gatedGradientProgram]
            + ScalarUnary.allCases.map { ScalarProgram(inputs: ["x"], statements: [.init("y", .call($0, .name("x")))], outputs: ["y"]) }
    }

    func testFormulasAreOneIntrinsicPerNode() {
        let silu = FormulaKernel(Activation.silu.forwardProgram, element: .f32)
        XCTAssertEqual(silu.expression(Activation.silu.forwardFormula), "__fmul_rn(v_x, det_f_sigmoid(v_x))")
        let gelu = FormulaKernel(Activation.gelu.forwardProgram, element: .f64)
        XCTAssertEqual(gelu.expression(.c(0.5)), "__longlong_as_double(0x3fe0000000000000LL)")
        XCTAssertEqual(FormulaKernel(Activation.relu.forwardProgram, element: .f32).expression(Activation.relu.forwardFormula),
                       "(((v_x > __int_as_float(0x00000000)) || isnan(v_x)) ? v_x : __int_as_float(0x00000000))")
        let adam = FormulaKernel(OptimizerSpec.adamw(lr: 1, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0).updateProgram, element: .f32)
        let src = adam.kernel(named: "k")
        XCTAssertTrue(src.contains("const float s_step_size"), src)
        XCTAssertTrue(src.contains("v_p = __fsub_rn(v_p, __fmul_rn(s_step_size, __fdiv_rn(v_exp_avg, v_denom)));"), src)
        XCTAssertTrue(src.contains("out_exp_avg_sq[i] = v_exp_avg_sq;"), src)
        // Tables and constants are printed from LoomCore's definitions.
        XCTAssertTrue(DetMathCUDA.source.contains("det_exp_table[128]"))
        XCTAssertTrue(DetMathCUDA.source.contains("#define DET_LN2_HI __longlong_as_double(0x\(Hex.string(0x1.62e42fefa3800p-1.bitPattern, digits: 16))LL)"))
    }

    func testEveryResidentKernelCompilesWithNVRTC() throws {
        let nvrtc: NVRTC
        do { nvrtc = try NVRTC() } catch {
            if ProcessInfoLite.env("LOOM_REQUIRE_NVRTC") == "1" { XCTFail("NVRTC is required here: \(error)") }
            throw XCTSkip("no NVRTC on this machine: \(error)")
        }
        let programs = ResidentKernelTests.programs
        for arch in ["sm_90", "sm_80"] {
            for element in [GemmKernel.Element.f32, .f64] {
                // All formulas in one module (each kernel also compiles alone: the same text after DetMath).
                var module = DetMathCUDA.source
                for (i, p) in programs.enumerated() { module += FormulaKernel(p, element: element).kernel(named: "f\(i)") }
                let cubin = try nvrtc.compile(module, name: "formulas", arch: arch)
                XCTAssertEqual(Array(cubin.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "\(arch) \(element) formulas: not an ELF CUBIN")
                let layers = try nvrtc.compile(LayerKernels.source(element), name: "layers", arch: arch)
                XCTAssertEqual(Array(layers.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "\(arch) \(element) layer kernels: not an ELF CUBIN")
            }
        }
        for arch in ["sm_90", "sm_80"] {
            let q = try nvrtc.compile(QuantizedKernels.source, name: "quantized", arch: arch)
            XCTAssertEqual(Array(q.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "\(arch) quantized kernels: not an ELF CUBIN")
        }
        // The kernels of `loom bench --mode gpu-math` that are not formulas.
        for (name, source) in [("pow f32", DetMathCheck.powCheckSource(.f32)), ("pow f64", DetMathCheck.powCheckSource(.f64)),
                               ("round f16", DetMathCheck.roundCheckSource(.f16)), ("round bf16", DetMathCheck.roundCheckSource(.bf16))] {
            let c = try nvrtc.compile(source, name: name, arch: "sm_90")
            XCTAssertEqual(Array(c.prefix(4)), [0x7f, 0x45, 0x4c, 0x46], "\(name) check: not an ELF CUBIN")
        }
        // One formula as the device loads it (DetMath + kernel), to check the standalone form too.
        let one = try nvrtc.compile(FormulaKernel(Activation.mish.backwardProgram, element: .f32).source, name: "mish", arch: "sm_90")
        XCTAssertEqual(Array(one.prefix(4)), [0x7f, 0x45, 0x4c, 0x46])
    }
}
