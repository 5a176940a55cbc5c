"""What a user sees: generation wall time of llama-cpp-python next to `loom generate`, for scripts/bench.

Usage: bench_generate.py MODEL THREADS PROMPT TOKENS REPEATS
Greedy completion of PROMPT wrapped in the model's chat template, TOKENS new tokens (no early stop
at the end-of-sequence token), timed end to end per call; the model load is excluded by
subtracting a 1-token call: tok/s = (TOKENS − 1) / (t(TOKENS) − t(1)), best of REPEATS each.
"""
import sys, time
from llama_cpp import Llama

model, threads, prompt, n, reps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
llm = Llama(model_path=model, n_threads=threads, n_threads_batch=threads, n_ctx=512, verbose=False)
messages = [{"role": "user", "content": prompt}]

def timed(k):
    best = float("inf")
    for _ in range(reps + 1):  # the first call warms up
        llm.reset()
        a = time.perf_counter()
        out = llm.create_chat_completion(messages=messages, max_tokens=k, temperature=0.0, top_k=1, logit_bias=None)
        best = min(best, time.perf_counter() - a)
        got = out["usage"]["completion_tokens"]
    return best, got

t1, _ = timed(1)
tn, got = timed(n)
print("llama.cpp-generate threads=%d tokens=%d wall_s=%f one_token_s=%f tok_s=%f" % (threads, got, tn, t1, (got - 1) / (tn - t1)))
