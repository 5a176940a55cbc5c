"""sentence-transformers (PyTorch CPU) sentence embeddings per second, for scripts/bench.

Usage: bench_minilm.py MODEL_DIR THREADS BATCH REPEATS TEXTS_FILE
Prints one line like `loom bench --mode minilm`: sentences_s (best of REPEATS after a warm-up; one
call of encode over all texts in batches of BATCH, tokenization and pooling included).
"""
import sys, time
import torch
from sentence_transformers import SentenceTransformer

model_dir, threads, batch, reps, texts_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
torch.set_num_threads(threads)
texts = [t for t in open(texts_path, encoding="utf-8").read().split("\n") if t]
model = SentenceTransformer(model_dir, device="cpu")
best = float("inf")
for _ in range(reps + 1):  # the first round warms up
    a = time.perf_counter()
    model.encode(texts, batch_size=batch, convert_to_numpy=True, normalize_embeddings=True)
    best = min(best, time.perf_counter() - a)
print("sentence-transformers threads=%d texts=%d batch=%d sentences_s=%f" % (threads, len(texts), batch, len(texts) / best))
