// The C# column of scripts/crosscheck: every golden reference case through the C# binding (network
// from IR JSON, forward, 20 trainer steps), printing the golden file's lines.
using System;
using LoomSwift;

static class Crosscheck {
    static void Main() {
        foreach (var c in Loom.ReferenceCases())
            foreach (var line in c.Run()) Console.WriteLine(line);
    }
}
