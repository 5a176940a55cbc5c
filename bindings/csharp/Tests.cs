// Tests of the C# bindings (scripts/test-csharp): mcs -out:Tests.exe -r:Loom.dll Tests.cs; mono Tests.exe
using System;
using System.IO;
using System.Linq;
using LoomSwift;

static class Tests {
    static int checks = 0, failures = 0;
    static void Check(bool ok, string what) { checks++; if (!ok) { failures++; Console.Error.WriteLine("FAIL " + what); } }
    static void Throws(int status, Action a, string what) {
        try { a(); Check(false, what + ": no exception"); }
        catch (LoomException e) { Check(e.Status == status, $"{what}: status {e.Status}, expected {status}"); }
        catch (ObjectDisposedException) { Check(status == -1, what + ": disposed"); }
    }

    const string XOR = "{\"format\": \"loom\", \"version\": 1, \"name\": \"xor\", \"seed\": 4, \"input\": {\"shape\": [2]}, " +
        "\"layers\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 2}], " +
        "\"training\": {\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"adamw\", \"lr\": 0.05}, \"epochs\": 1, \"batch_size\": 4}}";
    static readonly float[] X = { 0, 0, 0, 1, 1, 0, 1, 1 };
    static readonly float[] T = { 0, 1, 1, 0 };

    static int Main() {
        Check(Loom.Version.Length > 0, "version");
        using (var net = Network.FromJson(XOR)) {
            Check(net.InputSize == 2 && net.OutputSize == 2, "sizes");
            var y = net.Forward(X, 4);
            net.SetThreads(2);
            Check(net.Forward(X, 4).SequenceEqual(y), "threads change nothing");
            Check(net.InfoJson().Contains("\"dense\""), "info");
            ulong before = net.WeightsHash();
            float first, last = 0;
            using (var tr = net.CreateTrainer()) {
                first = tr.Step(X, 4, T);
                for (int i = 0; i < 150; i++) last = tr.Step(X, 4, T);
            }
            Check(last < first * 0.2f, $"loss {first} -> {last}");
            Check(net.WeightsHash() != before, "weights changed");
            string path = Path.Combine(Path.GetTempPath(), "loom-cs-test.json");
            net.Save(path);
            using (var again = Network.Load(path)) Check(again.Forward(X, 4).SequenceEqual(net.Forward(X, 4)), "save/load bits");
            File.Delete(path);
            Throws(5, () => net.Forward(new float[3], 2), "bad x");
            Throws(1, () => net.SetThreads(0), "bad threads");
            Throws(1, () => net.SaveSafetensors("/tmp/x.safetensors", "int3"), "bad dtype");
        }
        Throws(2, () => Network.FromJson("{\"format\": "), "bad JSON");
        Throws(8, () => Network.Load("/nonexistent/model.json"), "missing file");
        var disposed = Network.FromJson(XOR);
        disposed.Dispose();
        disposed.Dispose();
        Throws(-1, () => disposed.Forward(X, 4), "disposed network");
        var lines = Loom.ReferenceHashes();
        Check(lines[0] == "dense_linear.f32.forward a443a459d4b8b96f", "golden first line: " + lines[0]);
        Check(lines.Length >= 1378, "golden lines");
        Console.WriteLine($"C#: {checks} checks, {failures} failures");
        return failures == 0 ? 0 : 1;
    }
}
