// C# bindings of Loom for Swift over libloom's C ABI (include/loom.h). P/Invoke into libloom.so
// (the self-contained library from scripts/build-libloom); handles are IDisposable.
// Build: mcs -target:library -out:Loom.dll Loom.cs
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;
using System.Text;

namespace LoomSwift {
    public class LoomException : Exception {
        public readonly int Status;
        public LoomException(int status, string message) : base($"loom status {status}: {message}") { Status = status; }
    }

    internal static class Native {
        const string Lib = "libloom.so";
        public const int BufferTooSmall = 10;
        [DllImport(Lib)] public static extern IntPtr loom_version();
        [DllImport(Lib)] public static extern IntPtr loom_last_error();
        [DllImport(Lib)] public static extern int loom_network_from_json(byte[] json, out IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_from_safetensors(byte[] bytes, UIntPtr count, out IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_load(byte[] path, out IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_to_json(IntPtr net, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_network_to_safetensors(IntPtr net, byte[] dtype, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_network_save(IntPtr net, byte[] path);
        [DllImport(Lib)] public static extern int loom_network_save_safetensors(IntPtr net, byte[] path, byte[] dtype);
        [DllImport(Lib)] public static extern void loom_network_free(IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_input_size(IntPtr net, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_network_output_size(IntPtr net, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_network_output_shape(IntPtr net, UIntPtr[] dims, UIntPtr cap, out UIntPtr rank);
        [DllImport(Lib)] public static extern int loom_network_parameter_count(IntPtr net, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_network_set_threads(IntPtr net, int threads);
        [DllImport(Lib)] public static extern int loom_network_forward(IntPtr net, float[] x, UIntPtr batch, float[] y, UIntPtr cap);
        [DllImport(Lib)] public static extern int loom_network_forward_f64(IntPtr net, double[] x, UIntPtr batch, double[] y, UIntPtr cap);
        [DllImport(Lib)] public static extern int loom_network_backward(IntPtr net, float[] x, UIntPtr batch, float[] dy, float[] dx, UIntPtr dxCap, float[] grads, UIntPtr gCap);
        [DllImport(Lib)] public static extern int loom_network_backward_f64(IntPtr net, double[] x, UIntPtr batch, double[] dy, double[] dx, UIntPtr dxCap, double[] grads, UIntPtr gCap);
        [DllImport(Lib)] public static extern int loom_network_info_json(IntPtr net, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_network_weights_hash(IntPtr net, out ulong hash);
        [DllImport(Lib)] public static extern int loom_trainer_new(IntPtr net, out IntPtr tr);
        [DllImport(Lib)] public static extern int loom_trainer_new_with(IntPtr net, byte[] training, out IntPtr tr);
        [DllImport(Lib)] public static extern int loom_trainer_step(IntPtr tr, float[] x, UIntPtr batch, float[] t, UIntPtr count, out float loss);
        [DllImport(Lib)] public static extern int loom_trainer_step_f64(IntPtr tr, double[] x, UIntPtr batch, double[] t, UIntPtr count, out double loss);
        [DllImport(Lib)] public static extern int loom_trainer_progress(IntPtr tr, out UIntPtr steps, out double lr);
        [DllImport(Lib)] public static extern void loom_trainer_free(IntPtr tr);
        [DllImport(Lib)] public static extern int loom_step_new(IntPtr net, byte[] options, out IntPtr st);
        [DllImport(Lib)] public static extern int loom_step_latency(IntPtr st, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_step_tick(IntPtr st, float[] x, float[] target, UIntPtr count, out int done, out ulong tag, float[] y, UIntPtr cap, out double loss);
        [DllImport(Lib)] public static extern int loom_step_tick_f64(IntPtr st, double[] x, double[] target, UIntPtr count, out int done, out ulong tag, double[] y, UIntPtr cap, out double loss);
        [DllImport(Lib)] public static extern int loom_step_progress(IntPtr st, out ulong ticks, out ulong fed, out ulong updates);
        [DllImport(Lib)] public static extern int loom_step_report_json(IntPtr st, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern void loom_step_free(IntPtr st);
        [DllImport(Lib)] public static extern int loom_tween_new(IntPtr net, byte[] config, out IntPtr tw);
        [DllImport(Lib)] public static extern int loom_tween_step(IntPtr tw, float[] x, UIntPtr batch, float[] t, UIntPtr count, out double loss);
        [DllImport(Lib)] public static extern int loom_tween_step_f64(IntPtr tw, double[] x, UIntPtr batch, double[] t, UIntPtr count, out double loss);
        [DllImport(Lib)] public static extern int loom_tween_report_json(IntPtr tw, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern void loom_tween_free(IntPtr tw);
        [DllImport(Lib)] public static extern int loom_tokenizer_from_json(byte[] json, out IntPtr tok);
        [DllImport(Lib)] public static extern int loom_tokenizer_load(byte[] path, out IntPtr tok);
        [DllImport(Lib)] public static extern int loom_tokenizer_vocab_size(IntPtr tok, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_tokenizer_encode(IntPtr tok, byte[] text, UIntPtr length, int addSpecial, int[] ids, UIntPtr cap, out UIntPtr count);
        [DllImport(Lib)] public static extern int loom_tokenizer_decode(IntPtr tok, int[] ids, UIntPtr count, int skipSpecial, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern void loom_tokenizer_free(IntPtr tok);
        [DllImport(Lib)] public static extern int loom_generator_load(byte[] path, int blocks, out IntPtr gen);
        [DllImport(Lib)] public static extern int loom_generator_set_threads(IntPtr gen, int threads);
        [UnmanagedFunctionPointer(CallingConvention.Cdecl)] public delegate void TextCallback(IntPtr user, IntPtr piece);
        [DllImport(Lib)] public static extern int loom_generator_generate(IntPtr gen, byte[] prompt, int chat, UIntPtr maxTokens, byte[] sampler,
                                                                         TextCallback onText, IntPtr user, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_generator_last_text(IntPtr gen, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_generator_tokenizer(IntPtr gen, out IntPtr tok);
        [DllImport(Lib)] public static extern void loom_generator_free(IntPtr gen);
        [DllImport(Lib)] public static extern int loom_reference_hashes(byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_reference_count(out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_reference_name(UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_reference_ir(UIntPtr index, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_reference_data(UIntPtr index, int which, double[] buf, UIntPtr cap, out UIntPtr needed);

        public static byte[] Z(string s) => s == null ? null : Encoding.UTF8.GetBytes(s + "\0");
        public static string Str(IntPtr p) {
            if (p == IntPtr.Zero) return "";
            int n = 0;
            while (Marshal.ReadByte(p, n) != 0) n++;
            var b = new byte[n];
            Marshal.Copy(p, b, 0, n);
            return Encoding.UTF8.GetString(b);
        }
        public static void Check(int status) { if (status != 0) throw new LoomException(status, Str(loom_last_error())); }

        /// Calls a (buf, capacity, needed) function twice: for the size, then into an array of that size.
        public delegate int Fill<T>(T[] buf, UIntPtr capacity, out UIntPtr needed);
        public static T[] Sized<T>(Fill<T> fill) {
            UIntPtr needed;
            int s = fill(null, UIntPtr.Zero, out needed);
            if (s != 0 && s != BufferTooSmall) Check(s);
            var buf = new T[(int)needed];
            Check(fill(buf, needed, out needed));
            return buf;
        }
        public static string Text(Fill<byte> fill) {
            var b = Sized(fill);
            return Encoding.UTF8.GetString(b, 0, Math.Max(b.Length - 1, 0));
        }
    }

    /// The base of every handle: freed once by Dispose or the finaliser.
    public abstract class LoomHandle : IDisposable {
        IntPtr h;
        readonly string what;
        protected LoomHandle(IntPtr handle, string what) { h = handle; this.what = what; }
        protected abstract void Free(IntPtr handle);
        internal IntPtr Handle { get { if (h == IntPtr.Zero) throw new ObjectDisposedException(what); return h; } }
        public void Dispose() { if (h != IntPtr.Zero) { Free(h); h = IntPtr.Zero; } GC.SuppressFinalize(this); }
        ~LoomHandle() { if (h != IntPtr.Zero) Free(h); }
    }

    public static class Loom {
        public static string Version => Native.Str(Native.loom_version());

        /// The golden reference hashes, one `name hash` line each.
        public static string[] ReferenceHashes() =>
            Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_hashes(b, c, out n)).TrimEnd('\n').Split('\n');

        /// FNV-1a 64 over bytes (the hash of the golden file).
        public static ulong Fnv1a64(IEnumerable<byte> bytes, ulong h = 0xcbf29ce484222325UL) {
            foreach (var b in bytes) { h ^= b; h *= 0x100000001b3UL; }
            return h;
        }

        /// Every golden reference case (in the golden file's order).
        public static IEnumerable<ReferenceCase> ReferenceCases() {
            UIntPtr n;
            Native.Check(Native.loom_reference_count(out n));
            for (ulong i = 0; i < (ulong)n; i++) yield return new ReferenceCase((UIntPtr)i);
        }
    }

    /// A golden reference case: its name, IR JSON and data; Run computes its two golden lines
    /// through this binding.
    public sealed class ReferenceCase {
        public readonly string Name, Ir;
        public readonly double[] X, TrainX, TrainTargets;
        internal ReferenceCase(UIntPtr i) {
            Name = Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_name(i, b, c, out n));
            Ir = Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_ir(i, b, c, out n));
            X = Native.Sized((double[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_data(i, 0, b, c, out n));
            TrainX = Native.Sized((double[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_data(i, 1, b, c, out n));
            TrainTargets = Native.Sized((double[] b, UIntPtr c, out UIntPtr n) => Native.loom_reference_data(i, 2, b, c, out n));
        }
        public bool IsF64 => Name.EndsWith(".f64");

        static float[] F(double[] a, int start, int count) { var f = new float[count]; for (int i = 0; i < count; i++) f[i] = (float)a[start + i]; return f; }
        static double[] D(double[] a, int start, int count) { var d = new double[count]; Array.Copy(a, start, d, 0, count); return d; }

        public string[] Run() {
            using (var net = Network.FromJson(Ir)) {
                int inN = net.InputSize, batch = X.Length / inN;
                var bytes = new List<byte>();
                var shape = net.OutputShape;
                bytes.AddRange(BitConverter.GetBytes((ulong)(shape.Length + 1)));
                bytes.AddRange(BitConverter.GetBytes((ulong)batch));
                foreach (var d in shape) bytes.AddRange(BitConverter.GetBytes((ulong)d));
                if (IsF64) {
                    foreach (var v in net.Forward(X, batch))
                        bytes.AddRange(BitConverter.GetBytes(double.IsNaN(v) ? 0x7FF8000000000000UL : (ulong)BitConverter.DoubleToInt64Bits(v)));
                } else {
                    foreach (var v in net.Forward(F(X, 0, X.Length), batch))
                        bytes.AddRange(float.IsNaN(v) ? BitConverter.GetBytes(0x7FC00000U) : BitConverter.GetBytes(v));
                }
                string forward = $"{Name}.forward {Loom.Fnv1a64(bytes):x16}";
                int per = TrainTargets.Length / 32;
                using (var tr = net.CreateTrainer()) {
                    for (int s = 0; s < 20; s++) {
                        int first = (s % 4) * 8;
                        if (IsF64) tr.Step(D(TrainX, first * inN, 8 * inN), 8, D(TrainTargets, first * per, 8 * per));
                        else tr.Step(F(TrainX, first * inN, 8 * inN), 8, F(TrainTargets, first * per, 8 * per));
                    }
                }
                return new[] { forward, $"{Name}.train20 {net.WeightsHash():x16}" };
            }
        }
    }

    /// A network (IR or saved model); outputs are bit-identical for any thread count. float[] data
    /// use the float entry points, double[] the _f64 ones (exact for f64 networks).
    public sealed class Network : LoomHandle {
        Network(IntPtr handle) : base(handle, "Network") {}
        protected override void Free(IntPtr p) => Native.loom_network_free(p);

        public static Network FromJson(string json) { IntPtr p; Native.Check(Native.loom_network_from_json(Native.Z(json), out p)); return new Network(p); }
        public static Network FromSafetensors(byte[] bytes) { IntPtr p; Native.Check(Native.loom_network_from_safetensors(bytes, (UIntPtr)(bytes?.Length ?? 0), out p)); return new Network(p); }
        public static Network Load(string path) { IntPtr p; Native.Check(Native.loom_network_load(Native.Z(path), out p)); return new Network(p); }

        public int InputSize { get { UIntPtr n; Native.Check(Native.loom_network_input_size(Handle, out n)); return (int)n; } }
        public int OutputSize { get { UIntPtr n; Native.Check(Native.loom_network_output_size(Handle, out n)); return (int)n; } }
        public int ParameterCount { get { UIntPtr n; Native.Check(Native.loom_network_parameter_count(Handle, out n)); return (int)n; } }
        public int[] OutputShape => Array.ConvertAll(Native.Sized((UIntPtr[] b, UIntPtr c, out UIntPtr n) => Native.loom_network_output_shape(Handle, b, c, out n)), d => (int)d);
        public void SetThreads(int threads) => Native.Check(Native.loom_network_set_threads(Handle, threads));

        void CheckBatch(int length, int batch) {
            if (batch < 1 || length != batch * InputSize) throw new LoomException(5, $"x holds {length} values, not {batch} samples of {InputSize}");
        }

        /// Outputs of `batch` samples (x holds batch · InputSize values).
        public float[] Forward(float[] x, int batch) {
            CheckBatch(x?.Length ?? 0, batch);
            var y = new float[batch * OutputSize];
            Native.Check(Native.loom_network_forward(Handle, x, (UIntPtr)batch, y, (UIntPtr)y.Length));
            return y;
        }

        public double[] Forward(double[] x, int batch) {
            CheckBatch(x?.Length ?? 0, batch);
            var y = new double[batch * OutputSize];
            Native.Check(Native.loom_network_forward_f64(Handle, x, (UIntPtr)batch, y, (UIntPtr)y.Length));
            return y;
        }

        /// Gradients of sum(output · dy): dx (batch · InputSize) and every parameter's gradient in order.
        public (double[] dx, double[] grads) Backward(double[] x, int batch, double[] dy) {
            CheckBatch(x?.Length ?? 0, batch);
            var dx = new double[x.Length];
            var grads = new double[ParameterCount];
            Native.Check(Native.loom_network_backward_f64(Handle, x, (UIntPtr)batch, dy, dx, (UIntPtr)dx.Length, grads, (UIntPtr)grads.Length));
            return (dx, grads);
        }

        public (float[] dx, float[] grads) Backward(float[] x, int batch, float[] dy) {
            CheckBatch(x?.Length ?? 0, batch);
            var dx = new float[x.Length];
            var grads = new float[ParameterCount];
            Native.Check(Native.loom_network_backward(Handle, x, (UIntPtr)batch, dy, dx, (UIntPtr)dx.Length, grads, (UIntPtr)grads.Length));
            return (dx, grads);
        }

        public string InfoJson() => Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_network_info_json(Handle, b, c, out n));
        public string ToJson() => Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_network_to_json(Handle, b, c, out n));
        public byte[] ToSafetensors(string dtype = null) => Native.Sized((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_network_to_safetensors(Handle, Native.Z(dtype), b, c, out n));
        public ulong WeightsHash() { ulong v; Native.Check(Native.loom_network_weights_hash(Handle, out v)); return v; }
        public void Save(string path) => Native.Check(Native.loom_network_save(Handle, Native.Z(path)));
        public void SaveSafetensors(string path, string dtype = null) => Native.Check(Native.loom_network_save_safetensors(Handle, Native.Z(path), Native.Z(dtype)));

        /// A trainer with the IR's training block, or with the given one (IR JSON: loss, optimizer, scheduler, clip).
        public Trainer CreateTrainer(string trainingJson = null) => new Trainer(this, trainingJson);

        /// A pipeline over the network's layers (docs/step.md); optionsJson null for inference only, else
        /// {"learner": "none" | "backprop" | "tween", "training": {IR training block}, "update_every": n,
        /// "tween": {tween config}, "stash_limit": n, "concurrent": bool}.
        public StepState CreateStepState(string optionsJson = null) => new StepState(this, optionsJson);

        /// A Neural Tweening state (docs/tweening.md); configJson null for the defaults, else {"mode":
        /// "chain_rule" | "gap_closing", "rate", "momentum", …}.
        public Tween CreateTween(string configJson = null) => new Tween(this, configJson);
    }

    /// Optimizer steps on a network.
    public sealed class Trainer : LoomHandle {
        readonly Network net;
        internal Trainer(Network network, string trainingJson) : base(New(network, trainingJson), "Trainer") { net = network; }
        static IntPtr New(Network network, string trainingJson) {
            IntPtr h;
            Native.Check(trainingJson == null ? Native.loom_trainer_new(network.Handle, out h)
                                              : Native.loom_trainer_new_with(network.Handle, Native.Z(trainingJson), out h));
            return h;
        }
        protected override void Free(IntPtr p) => Native.loom_trainer_free(p);

        /// One step on a batch; targets are class ids (cross-entropy) or batch · OutputSize values.
        public float Step(float[] x, int batch, float[] targets) {
            if (x == null || targets == null || batch < 1 || x.Length != batch * net.InputSize) throw new LoomException(5, "x does not hold the batch");
            float loss;
            Native.Check(Native.loom_trainer_step(Handle, x, (UIntPtr)batch, targets, (UIntPtr)targets.Length, out loss));
            return loss;
        }

        public double Step(double[] x, int batch, double[] targets) {
            if (x == null || targets == null || batch < 1 || x.Length != batch * net.InputSize) throw new LoomException(5, "x does not hold the batch");
            double loss;
            Native.Check(Native.loom_trainer_step_f64(Handle, x, (UIntPtr)batch, targets, (UIntPtr)targets.Length, out loss));
            return loss;
        }

        /// Steps taken and the learning rate of the next step.
        public (int steps, double lr) Progress() {
            UIntPtr s; double lr;
            Native.Check(Native.loom_trainer_progress(Handle, out s, out lr));
            return ((int)s, lr);
        }
    }

    /// A sample that left a step pipeline: its tag (0, 1, 2, … in feeding order), its output
    /// (OutputSize values) and its loss (backprop: the sample's loss; tween: the sum of squared
    /// errors; no learner: NaN).
    public sealed class StepResult<T> {
        public readonly ulong Tag;
        public readonly T[] Output;
        public readonly double Loss;
        internal StepResult(ulong tag, T[] output, double loss) { Tag = tag; Output = output; Loss = loss; }
    }

    /// Step execution (docs/step.md): the network's top-level layers as a pipeline. Every Tick advances
    /// each layer once and may feed one sample, which leaves Latency ticks after it entered with
    /// Forward's bits; with a learner (backprop or tween) it is learned from as it leaves. float[]
    /// data use loom_step_tick, double[] loom_step_tick_f64.
    public sealed class StepState : LoomHandle {
        readonly Network net;
        ulong completed;
        internal StepState(Network network, string optionsJson) : base(New(network, optionsJson), "StepState") { net = network; }
        static IntPtr New(Network network, string optionsJson) {
            IntPtr h;
            Native.Check(Native.loom_step_new(network.Handle, Native.Z(optionsJson), out h));
            return h;
        }
        protected override void Free(IntPtr p) => Native.loom_step_free(p);

        /// Ticks from a sample's entry to its output (the number of top-level layers).
        public int Latency { get { UIntPtr n; Native.Check(Native.loom_step_latency(Handle, out n)); return (int)n; } }

        void CheckSample(int? length) {
            if (length != null && length != net.InputSize) throw new LoomException(5, $"x holds {length} values, not one sample of {net.InputSize}");
        }

        StepResult<T> Done<T>(int done, ulong tag, T[] y, double loss) {
            if (done == 0) return null;
            completed++;
            return new StepResult<T>(tag, y, loss);
        }

        /// One tick: x (one sample, or null to tick without feeding) enters under the next tag with its
        /// target (with a learner: a class id or OutputSize values; else null). Returns the sample that
        /// left the pipeline this tick, or null.
        public StepResult<float> Tick(float[] x = null, float[] target = null) {
            CheckSample(x?.Length);
            var y = new float[net.OutputSize];
            int done; ulong tag; double loss;
            Native.Check(Native.loom_step_tick(Handle, x, target, (UIntPtr)(target?.Length ?? 0), out done, out tag, y, (UIntPtr)y.Length, out loss));
            return Done(done, tag, y, loss);
        }

        /// The double form (a tick without feeding: Tick((double[])null)).
        public StepResult<double> Tick(double[] x, double[] target = null) {
            CheckSample(x?.Length);
            var y = new double[net.OutputSize];
            int done; ulong tag; double loss;
            Native.Check(Native.loom_step_tick_f64(Handle, x, target, (UIntPtr)(target?.Length ?? 0), out done, out tag, y, (UIntPtr)y.Length, out loss));
            return Done(done, tag, y, loss);
        }

        List<StepResult<T>> Drain<T>(Func<StepResult<T>> tick) {
            var results = new List<StepResult<T>>();
            for (int i = Latency; i > 0 && Progress().fed > completed; i--) {
                var r = tick();
                if (r != null) results.Add(r);
            }
            return results;
        }

        /// Ticks without feeding until every sample fed has left the pipeline; returns them.
        public List<StepResult<float>> Flush() => Drain(() => Tick());
        public List<StepResult<double>> FlushF64() => Drain(() => Tick((double[])null));

        /// Ticks so far, samples fed, and learning updates applied (optimizer updates or tween steps).
        public (ulong ticks, ulong fed, ulong updates) Progress() {
            ulong t, f, u;
            Native.Check(Native.loom_step_progress(Handle, out t, out f, out u));
            return (t, f, u);
        }

        /// The report of the sample that last left the pipeline as JSON ({"tag"}, with "loss" for
        /// backprop and the tween report's fields for tween; "null" before the first).
        public string ReportJson() => Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_step_report_json(Handle, b, c, out n));
    }

    /// Neural Tweening (docs/tweening.md): whole-pass tween steps on a network.
    public sealed class Tween : LoomHandle {
        readonly Network net;
        internal Tween(Network network, string configJson) : base(New(network, configJson), "Tween") { net = network; }
        static IntPtr New(Network network, string configJson) {
            IntPtr h;
            Native.Check(Native.loom_tween_new(network.Handle, Native.Z(configJson), out h));
            return h;
        }
        protected override void Free(IntPtr p) => Native.loom_tween_free(p);

        /// One tween step on a batch; targets are class ids (one per sample) or batch · OutputSize values.
        /// Returns the sum of squared output errors before the step.
        public double Step(float[] x, int batch, float[] targets) {
            if (x == null || targets == null || batch < 1 || x.Length != batch * net.InputSize) throw new LoomException(5, "x does not hold the batch");
            double loss;
            Native.Check(Native.loom_tween_step(Handle, x, (UIntPtr)batch, targets, (UIntPtr)targets.Length, out loss));
            return loss;
        }

        public double Step(double[] x, int batch, double[] targets) {
            if (x == null || targets == null || batch < 1 || x.Length != batch * net.InputSize) throw new LoomException(5, "x does not hold the batch");
            double loss;
            Native.Check(Native.loom_tween_step_f64(Handle, x, (UIntPtr)batch, targets, (UIntPtr)targets.Length, out loss));
            return loss;
        }

        /// The last step's report as JSON: {"loss", "link_budgets", "gaps", "depth_barrier", "updated",
        /// "adaptive_rate", "pruned"}, per-stage arrays from input to output ("null" before the first).
        public string ReportJson() => Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_tween_report_json(Handle, b, c, out n));
    }

    /// A Hugging Face tokenizer.json or a GGUF vocabulary.
    public sealed class Tokenizer : LoomHandle {
        internal Tokenizer(IntPtr handle) : base(handle, "Tokenizer") {}
        protected override void Free(IntPtr p) => Native.loom_tokenizer_free(p);
        public static Tokenizer FromJson(string json) { IntPtr p; Native.Check(Native.loom_tokenizer_from_json(Native.Z(json), out p)); return new Tokenizer(p); }
        public static Tokenizer Load(string path) { IntPtr p; Native.Check(Native.loom_tokenizer_load(Native.Z(path), out p)); return new Tokenizer(p); }
        public int VocabSize { get { UIntPtr n; Native.Check(Native.loom_tokenizer_vocab_size(Handle, out n)); return (int)n; } }
        public int[] Encode(string text, bool addSpecial = true) {
            var bytes = Encoding.UTF8.GetBytes(text);
            return Native.Sized((int[] b, UIntPtr c, out UIntPtr n) => Native.loom_tokenizer_encode(Handle, bytes, (UIntPtr)bytes.Length, addSpecial ? 1 : 0, b, c, out n));
        }
        public string Decode(int[] ids, bool skipSpecial = false) =>
            Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_tokenizer_decode(Handle, ids, (UIntPtr)ids.Length, skipSpecial ? 1 : 0, b, c, out n));
    }

    /// A Llama-family GGUF language model (e.g. SmolLM2).
    public sealed class Generator : LoomHandle {
        public Generator(string path, bool blocks = true) : base(Load(path, blocks), "Generator") {}
        static IntPtr Load(string path, bool blocks) { IntPtr p; Native.Check(Native.loom_generator_load(Native.Z(path), blocks ? 1 : 0, out p)); return p; }
        protected override void Free(IntPtr p) => Native.loom_generator_free(p);
        public void SetThreads(int threads) => Native.Check(Native.loom_generator_set_threads(Handle, threads));

        /// The generated text; samplerJson null for greedy; onText streams the pieces.
        public string Generate(string prompt, int maxTokens, bool chat = false, string samplerJson = null, Action<string> onText = null) {
            Native.TextCallback cb = onText == null ? null : (Native.TextCallback)((u, p) => onText(Native.Str(p)));
            var buf = new byte[4096];
            UIntPtr needed;
            int s = Native.loom_generator_generate(Handle, Native.Z(prompt), chat ? 1 : 0, (UIntPtr)maxTokens, Native.Z(samplerJson), cb, IntPtr.Zero, buf, (UIntPtr)buf.Length, out needed);
            GC.KeepAlive(cb);
            if (s == Native.BufferTooSmall) return Native.Text((byte[] b, UIntPtr c, out UIntPtr n) => Native.loom_generator_last_text(Handle, b, c, out n));
            Native.Check(s);
            return Encoding.UTF8.GetString(buf, 0, (int)needed - 1);
        }

        public Tokenizer Tokenizer() { IntPtr p; Native.Check(Native.loom_generator_tokenizer(Handle, out p)); return new Tokenizer(p); }
    }
}
