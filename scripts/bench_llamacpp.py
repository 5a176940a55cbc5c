"""llama.cpp (llama-cpp-python) prompt processing and generation speed for scripts/bench-llm.

Usage: bench_llamacpp.py MODEL THREADS PROMPT_TOKENS GEN_TOKENS REPEATS
Prints one line like `loom bench --mode llm`: pp_tok_s, tg_tok_s, peak_rss_mib (this process).
"""
import resource, sys, time
import numpy as np
from llama_cpp import Llama

model, threads, n, m, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=n + m + 8, n_batch=n + m + 8,
            verbose=False, logits_all=False)
vocab = llm.n_vocab()
rng = np.random.default_rng(7)
prompt = [int(17 + x) for x in rng.integers(0, vocab - 17, size=n)]
best_pp = best_tg = float("inf")
for _ in range(reps + 1):  # the first round warms up
    llm.reset()
    a = time.perf_counter()
    llm.eval(prompt)
    b = time.perf_counter()
    for _ in range(m):
        tok = int(np.argmax(llm.scores[llm.n_tokens - 1]))
        llm.eval([tok])
    c = time.perf_counter()
    best_pp, best_tg = min(best_pp, b - a), min(best_tg, c - b)
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("llama.cpp threads=%d pp_tokens=%d pp_tok_s=%f tg_tokens=%d tg_tok_s=%f peak_rss_mib=%f" % (threads, n, n / best_pp, m, m / best_tg, rss))
