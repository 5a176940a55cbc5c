// C# bindings of Loom for Swift over libloom's C ABI (include/loom.h). P/Invoke into libloomc.so;
// handles are IDisposable. Build: mcs -target:library -out:Loom.dll Loom.cs
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace LoomSwift {
    public class LoomException : Exception {
        public readonly int Status;
        public LoomException(int status, string message) : base($"loom status {status}: {message}") { Status = status; }
    }

    internal static class Native {
        const string Lib = "libloomc.so";
        [DllImport(Lib)] public static extern IntPtr loom_version();
        [DllImport(Lib)] public static extern IntPtr loom_last_error();
        [DllImport(Lib)] public static extern int loom_network_from_json(byte[] json, out IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_load(byte[] path, out IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_save(IntPtr net, byte[] path);
        [DllImport(Lib)] public static extern int loom_network_save_safetensors(IntPtr net, byte[] path, byte[] dtype);
        [DllImport(Lib)] public static extern void loom_network_free(IntPtr net);
        [DllImport(Lib)] public static extern int loom_network_input_size(IntPtr net, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_network_output_size(IntPtr net, out UIntPtr n);
        [DllImport(Lib)] public static extern int loom_network_set_threads(IntPtr net, int threads);
        [DllImport(Lib)] public static extern int loom_network_forward(IntPtr net, float[] x, UIntPtr batch, float[] y, UIntPtr cap);
        [DllImport(Lib)] public static extern int loom_network_info_json(IntPtr net, byte[] buf, UIntPtr cap, out UIntPtr needed);
        [DllImport(Lib)] public static extern int loom_network_weights_hash(IntPtr net, out ulong hash);
        [DllImport(Lib)] public static extern int loom_trainer_new(IntPtr net, out IntPtr tr);
        [DllImport(Lib)] public static extern int loom_trainer_step(IntPtr tr, float[] x, UIntPtr batch, float[] t, UIntPtr count, out float loss);
        [DllImport(Lib)] public static extern void loom_trainer_free(IntPtr tr);
        [DllImport(Lib)] public static extern int loom_reference_hashes(byte[] buf, UIntPtr cap, out UIntPtr needed);

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
    }

    public static class Loom {
        public static string Version => Native.Str(Native.loom_version());

        /// The golden reference hashes, one `name hash` line each.
        public static string[] ReferenceHashes() {
            UIntPtr needed;
            Native.loom_reference_hashes(null, UIntPtr.Zero, out needed);
            var buf = new byte[(int)needed];
            Native.Check(Native.loom_reference_hashes(buf, needed, out needed));
            return Encoding.UTF8.GetString(buf, 0, buf.Length - 1).TrimEnd('\n').Split('\n');
        }
    }

    /// A network (IR or saved model); outputs are bit-identical for any thread count.
    public sealed class Network : IDisposable {
        IntPtr h;
        Network(IntPtr handle) { h = handle; }

        public static Network FromJson(string json) { IntPtr p; Native.Check(Native.loom_network_from_json(Native.Z(json), out p)); return new Network(p); }
        public static Network Load(string path) { IntPtr p; Native.Check(Native.loom_network_load(Native.Z(path), out p)); return new Network(p); }

        internal IntPtr Handle { get { if (h == IntPtr.Zero) throw new ObjectDisposedException("Network"); return h; } }

        public int InputSize { get { UIntPtr n; Native.Check(Native.loom_network_input_size(Handle, out n)); return (int)n; } }
        public int OutputSize { get { UIntPtr n; Native.Check(Native.loom_network_output_size(Handle, out n)); return (int)n; } }
        public void SetThreads(int threads) => Native.Check(Native.loom_network_set_threads(Handle, threads));

        /// Outputs of `batch` samples (x holds batch · InputSize values).
        public float[] Forward(float[] x, int batch) {
            if (x == null || batch < 1 || x.Length != batch * InputSize) throw new LoomException(5, $"x holds {x?.Length ?? 0} values, not {batch} samples of {InputSize}");
            var y = new float[batch * OutputSize];
            Native.Check(Native.loom_network_forward(Handle, x, (UIntPtr)batch, y, (UIntPtr)y.Length));
            return y;
        }

        public string InfoJson() {
            UIntPtr needed;
            Native.loom_network_info_json(Handle, null, UIntPtr.Zero, out needed);
            var buf = new byte[(int)needed];
            Native.Check(Native.loom_network_info_json(Handle, buf, needed, out needed));
            return Encoding.UTF8.GetString(buf, 0, buf.Length - 1);
        }

        public ulong WeightsHash() { ulong v; Native.Check(Native.loom_network_weights_hash(Handle, out v)); return v; }
        public void Save(string path) => Native.Check(Native.loom_network_save(Handle, Native.Z(path)));
        public void SaveSafetensors(string path, string dtype = null) => Native.Check(Native.loom_network_save_safetensors(Handle, Native.Z(path), Native.Z(dtype)));
        public Trainer CreateTrainer() => new Trainer(this);

        public void Dispose() { if (h != IntPtr.Zero) { Native.loom_network_free(h); h = IntPtr.Zero; } GC.SuppressFinalize(this); }
        ~Network() { if (h != IntPtr.Zero) Native.loom_network_free(h); }
    }

    /// Optimizer steps with the IR's training block.
    public sealed class Trainer : IDisposable {
        IntPtr h;
        readonly Network net;
        internal Trainer(Network network) { net = network; Native.Check(Native.loom_trainer_new(network.Handle, out h)); }

        /// One step on a batch; targets are class ids (cross-entropy) or batch · OutputSize values.
        public float Step(float[] x, int batch, float[] targets) {
            if (h == IntPtr.Zero) throw new ObjectDisposedException("Trainer");
            if (x == null || targets == null || batch < 1 || x.Length != batch * net.InputSize) throw new LoomException(5, "x does not hold the batch");
            float loss;
            Native.Check(Native.loom_trainer_step(h, x, (UIntPtr)batch, targets, (UIntPtr)targets.Length, out loss));
            return loss;
        }

        public void Dispose() { if (h != IntPtr.Zero) { Native.loom_trainer_free(h); h = IntPtr.Zero; } GC.SuppressFinalize(this); }
        ~Trainer() { if (h != IntPtr.Zero) Native.loom_trainer_free(h); }
    }
}
