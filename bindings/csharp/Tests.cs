// Tests of the C# bindings (scripts/test-csharp): mcs -out:Tests.exe -r:Loom.dll Tests.cs; mono Tests.exe
using System;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
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

    // Step execution and tweening (tests/c/test_loom.c's test_step): a 3-layer network (latency 3).
    const string MLP3 = "{\"format\": \"loom\", \"version\": 1, \"seed\": 11, \"input\": {\"shape\": [2]}, " +
        "\"layers\": [{\"type\": \"dense\", \"units\": 6, \"activation\": \"tanh\"}, {\"type\": \"dense\", \"units\": 5, \"activation\": \"relu\"}, " +
        "{\"type\": \"dense\", \"units\": 2}]}";
    const string SGD_CE = "{\"loss\": \"cross_entropy\", \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.1}}";

    static byte[] Bits(float[] a) { var b = new byte[a.Length * 4]; Buffer.BlockCopy(a, 0, b, 0, b.Length); return b; }
    static float[] Row(float[] a, int i, int n) { var r = new float[n]; Array.Copy(a, i * n, r, 0, n); return r; }

    /// Feeds sample i (class T[i]) and ticks until it leaves; returns it and the ticks taken.
    static (StepResult<float> r, int ticks) FeedAndDrain(StepState st, int i) {
        var r = st.Tick(Row(X, i, 2), new[] { T[i] });
        int ticks = 1;
        while (r == null && ticks < 10) { r = st.Tick(); ticks++; }
        return (r, ticks);
    }

    static void StepAndTween() {
        using (var net = Network.FromJson(MLP3)) {
            var reference = net.Forward(X, 4);
            // Inference: each output has Forward's bits, tags in feeding order, serially and concurrently.
            foreach (var options in new[] { null, "{\"concurrent\": true}" }) {
                using (var st = net.CreateStepState(options)) {
                    Check(st.Latency == 3, "latency " + st.Latency);
                    Check(st.ReportJson() == "null", "report before the first sample");
                    var got = new System.Collections.Generic.List<StepResult<float>>();
                    var doneAt = new System.Collections.Generic.List<int>();
                    for (int k = 0; k < 7; k++) {
                        var r = st.Tick(k < 4 ? Row(X, k, 2) : null);
                        if (r != null) { got.Add(r); doneAt.Add(k); }
                    }
                    Check(doneAt.SequenceEqual(new[] { 2, 3, 4, 5 }), $"{options}: done at ticks " + string.Join(",", doneAt));
                    Check(got.Select(r => r.Tag).SequenceEqual(new ulong[] { 0, 1, 2, 3 }), $"{options}: tags in feeding order");
                    Check(got.All(r => Bits(r.Output).SequenceEqual(Bits(Row(reference, (int)r.Tag, 2))) && double.IsNaN(r.Loss)),
                          $"{options}: pipeline outputs are Forward's bits");
                    Check(st.Progress().Equals((7UL, 4UL, 0UL)), $"{options}: progress {st.Progress()}");
                    Check(st.ReportJson() == "{\"tag\":3}", $"{options}: report {st.ReportJson()}");
                }
            }
            // Flush, and the f64 tick on a float network (values rounded once: the same bits).
            using (var st = net.CreateStepState("{\"learner\": \"none\", \"stash_limit\": 4}")) {
                Throws(1, () => st.Tick(), "tick on a never-fed pipeline");
                Check(st.Tick(new double[] { 0, 1 }) == null, "f64 tick: not out yet");
                var rest = st.FlushF64();
                Check(rest.Count == 1 && rest[0].Tag == 0 && (float)rest[0].Output[0] == reference[2] && (float)rest[0].Output[1] == reference[3],
                      "f64 tick output");
                Check(st.Flush().Count == 0 && st.Progress().ticks == 3, "flush of an empty pipeline");
                for (int i = 0; i < 4; i++) st.Tick(Row(X, i, 2));  // tags 1 … 4
                var drained = st.Flush();
                Check(drained.Select(r => r.Tag).SequenceEqual(new ulong[] { 3, 4 }) && Bits(drained[1].Output).SequenceEqual(Bits(Row(reference, 3, 2))),
                      "flush returns the samples in flight: " + string.Join(",", drained.Select(r => r.Tag)));
            }
            // Errors: targets without a learner, bad options, a bad tween mode, wrong-kind input.
            using (var st = net.CreateStepState()) {
                Throws(1, () => st.Tick(Row(X, 0, 2), new float[] { 1 }), "target without a learner");
                Throws(5, () => st.Tick(new float[3]), "x not one sample");
                Check(st.Progress().Equals((0UL, 0UL, 0UL)), "failed ticks change nothing");
            }
            Throws(1, () => net.CreateStepState("{\"learner\": \"magic\"}"), "unknown learner");
            Throws(1, () => net.CreateStepState("{\"latency\": 2}"), "unknown option field");
            Throws(1, () => net.CreateStepState("{\"learner\": \"backprop\"}"), "backprop without a training block");
            Throws(1, () => net.CreateStepState("{\"stash_limit\": 0}"), "stash limit 0");
            Throws(1, () => net.CreateStepState("{\"learner\": \"tween\", \"tween\": {\"pruning\": true}}"), "pruning on the pipeline");
            Throws(2, () => net.CreateStepState("{"), "options not JSON");
            Throws(1, () => net.CreateTween("{\"mode\": \"sideways\"}"), "bad tween mode");
            Throws(1, () => net.CreateTween("{\"rate\": -1}"), "negative tween rate");
            Throws(1, () => net.CreateTween("{\"rates\": 1}"), "unknown tween field");
        }

        // StepBP with one sample in flight: the trainer's weights and losses on batches of one.
        using (Network a = Network.FromJson(MLP3), b = Network.FromJson(MLP3)) {
            ulong start = a.WeightsHash();
            using (var st = a.CreateStepState("{\"learner\": \"backprop\", \"training\": " + SGD_CE + "}"))
            using (var tr = b.CreateTrainer(SGD_CE)) {
                bool lossesEqual = true, latencies = true;
                for (int round = 0; round < 3; round++)
                    for (int i = 0; i < 4; i++) {
                        var (r, ticks) = FeedAndDrain(st, i);
                        float lb = tr.Step(Row(X, i, 2), 1, new[] { T[i] });
                        latencies &= ticks == 3 && r != null;
                        lossesEqual &= r != null && r.Loss == lb;
                    }
                Check(latencies, "StepBP: each sample out after 3 ticks");
                Check(lossesEqual, "StepBP losses equal the trainer's");
                Check(a.WeightsHash() == b.WeightsHash() && a.WeightsHash() != start, $"StepBP weights {a.WeightsHash():x16}, trainer {b.WeightsHash():x16}");
                Check(st.Progress().updates == 12, "StepBP updates " + st.Progress().updates);
                Check(st.ReportJson().StartsWith("{\"tag\":11,\"loss\":"), "StepBP report " + st.ReportJson());
                try { st.Tick(Row(X, 0, 2)); Check(false, "a learner without a target: no exception"); }
                catch (LoomException e) { Check(e.Status == 1 && e.Message.Contains("target"), "a learner without a target: " + e.Message); }
                Throws(6, () => st.Tick(Row(X, 0, 2), new[] { 1.5f }), "class id 1.5");
                Throws(5, () => st.Tick(Row(X, 0, 2), new float[] { 0, 1, 1 }), "three target values");
                var disposed = st;
                disposed.Dispose();
                Throws(-1, () => disposed.Tick(Row(X, 0, 2), new[] { 1f }), "disposed step state");
                Throws(-1, () => disposed.Progress(), "disposed step state progress");
            }
        }

        // StepTween (gap closing) with one sample in flight: the weights and losses of whole-pass tween steps.
        using (Network a = Network.FromJson(MLP3), b = Network.FromJson(MLP3)) {
            const string cfg = "{\"mode\": \"gap_closing\", \"rate\": 0.05}";
            ulong start = a.WeightsHash();
            using (var st = a.CreateStepState("{\"learner\": \"tween\", \"tween\": " + cfg + "}"))
            using (var tw = b.CreateTween(cfg)) {
                Check(tw.ReportJson() == "null", "tween report before the first step");
                bool lossesEqual = true;
                for (int i = 0; i < 4; i++) {
                    var r = FeedAndDrain(st, i).r;
                    double lb = tw.Step(Row(X, i, 2), 1, new[] { T[i] });
                    lossesEqual &= r != null && r.Loss == lb;
                }
                Check(lossesEqual, "StepTween losses equal the tween's");
                Check(a.WeightsHash() == b.WeightsHash() && a.WeightsHash() != start, $"StepTween weights {a.WeightsHash():x16}, tween {b.WeightsHash():x16}");
                Check(st.Progress().Equals((12UL, 4UL, 4UL)), $"StepTween progress {st.Progress()}");
                var report = tw.ReportJson();
                var budgets = Regex.Match(report, "\"link_budgets\":\\[([^\\]]*)\\]");
                Check(budgets.Success && budgets.Groups[1].Value.Split(',').Length == 3, "link budgets, one per layer: " + report);
                Check(Regex.Match(report, "\"updated\":\\[([^\\]]*)\\]").Groups[1].Value.Split(',').Length == 3, "updated, one per layer: " + report);
                var stepReport = st.ReportJson();
                Check(stepReport.Contains("\"tag\":3") && stepReport.Contains(budgets.Value), "step tween report " + stepReport);
                double ld = tw.Step(new[] { 0.5, -0.25 }, 1, new[] { 1.0, 0.0 });
                Check(ld > 0, "f64 tween step with values as targets: " + ld);
                Throws(5, () => tw.Step(Row(X, 0, 2), 1, new float[] { 0, 1, 1 }), "tween: three target values");
                Throws(6, () => tw.Step(Row(X, 0, 2), 1, new float[] { 5 }), "tween: class id out of range");
                tw.Dispose();
                Throws(-1, () => tw.Step(Row(X, 0, 2), 1, new[] { 1f }), "disposed tween");
            }
        }
    }

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
        StepAndTween();
        Console.WriteLine($"C#: {checks} checks, {failures} failures");
        return failures == 0 ? 0 : 1;
    }
}
