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

        // Every golden case computed through this binding equals the golden file.
        var golden = File.ReadAllLines("Fixtures/golden/reference-hashes.txt").Where(l => !l.StartsWith("#")).ToArray();
        var computed = Loom.ReferenceCases().SelectMany(c => c.Run()).ToArray();
        Check(computed.SequenceEqual(golden), $"reference cases through C#: {computed.Length} lines, first difference at " +
              Enumerable.Range(0, Math.Min(computed.Length, golden.Length)).FirstOrDefault(i => computed[i] != golden[i]));

        // f64 data, backward (the last bias's gradient is the column sum of dy), any optimizer/scheduler.
        const string LINEAR64 = "{\"format\": \"loom\", \"version\": 1, \"dtype\": \"f64\", \"seed\": 7, \"input\": {\"shape\": [2]}, " +
            "\"layers\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 3}]}";
        using (var n64 = Network.FromJson(LINEAR64)) {
            double[] x = { 0.3, -0.7, 1.1, 0.25 }, dy = { 0.5, -1, 2, 0.125, 0.75, -0.25 };
            var (dx, grads) = n64.Backward(x, 2, dy);
            Check(grads.Length == 27 && n64.ParameterCount == 27, "parameter count");
            Check(grads[24] == dy[0] + dy[3] && grads[25] == dy[1] + dy[4] && grads[26] == dy[2] + dy[5], "bias gradient");
            double e = 1e-6, worst = 0;
            for (int i = 0; i < 4; i++) {
                var xp = (double[])x.Clone(); var xm = (double[])x.Clone();
                xp[i] += e; xm[i] -= e;
                double lp = n64.Forward(xp, 2).Zip(dy, (a, b) => a * b).Sum(), lm = n64.Forward(xm, 2).Zip(dy, (a, b) => a * b).Sum();
                worst = Math.Max(worst, Math.Abs((lp - lm) / (2 * e) - dx[i]));
            }
            Check(worst < 1e-7, $"backward vs finite differences {worst}");
            Check(n64.OutputShape.SequenceEqual(new[] { 3 }), "output shape");
            using (var tr = n64.CreateTrainer("{\"loss\": \"mse\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1, \"momentum\": 0.9}, \"scheduler\": {\"type\": \"step\", \"step_size\": 2, \"gamma\": 0.5}}")) {
                double l0 = tr.Step(x, 2, dy), l1 = 0;
                for (int i = 0; i < 3; i++) l1 = tr.Step(x, 2, dy);
                var (steps, lr) = tr.Progress();
                Check(steps == 4 && lr == 0.025 && l1 < l0, $"sgd/step schedule: {steps} {lr} {l0} -> {l1}");
            }
            Throws(3, () => n64.CreateTrainer("{\"optimizer\": {\"type\": \"nope\"}}"), "unknown optimizer");
            using (var copy = Network.FromSafetensors(n64.ToSafetensors()))
                Check(copy.Forward(x, 2).SequenceEqual(n64.Forward(x, 2)), "safetensors bytes round trip");
            using (var copy = Network.FromJson(n64.ToJson()))
                Check(copy.WeightsHash() == n64.WeightsHash(), "JSON round trip");
        }

        // Tokenizer (MiniLM's tokenizer.json fixture).
        using (var tok = Tokenizer.FromJson(File.ReadAllText("Fixtures/tokenizers/all-MiniLM-L6-v2.tokenizer.json"))) {
            var ids = tok.Encode("Hello, world!");
            Check(ids.SequenceEqual(new[] { 101, 7592, 1010, 2088, 999, 102 }), "tokenizer ids " + string.Join(",", ids));
            Check(tok.Decode(ids, skipSpecial: true) == "hello, world!", "decode");
            Check(tok.VocabSize == 30522, "vocab size");
            Throws(1, () => tok.Decode(new[] { 1 << 30 }), "unknown id");
        }

        // Generation with SmolLM2 (weights dequantized): greedy answers and is repeatable; streaming adds up.
        var gguf = Directory.GetFiles(".models", "*.gguf", SearchOption.AllDirectories).FirstOrDefault();
        Check(gguf != null, "SmolLM2 GGUF (scripts/fetch-models)");
        if (gguf != null) using (var gen = new Generator(gguf, blocks: false)) {
            var pieces = new System.Text.StringBuilder();
            var text = gen.Generate("What is the capital of France?", 12, chat: true, onText: p => pieces.Append(p));
            Check(text.Contains("Paris") && pieces.ToString() == text, "generation: " + text);
            Check(gen.Generate("What is the capital of France?", 12, chat: true) == text, "greedy repeatable");
            Throws(1, () => gen.Generate("x", 4, samplerJson: "{\"temperature\": -1}"), "bad sampler");
        }
        Console.WriteLine($"C#: {checks} checks, {failures} failures");
        return failures == 0 ? 0 : 1;
    }
}
