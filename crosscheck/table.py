"""Prints scripts/crosscheck's table: one row per golden line (case and kind), the golden file's
hash, then one column per implementation with the hash it computed (marked "!" where it differs),
then a summary; exits 1 if any cell differs or any
column is missing lines. Usage: python3 crosscheck/table.py GOLDEN NAME=FILE ..."""
import sys

golden_path, columns = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]


def read(path):
    try:
        with open(path) as f:
            return dict(l.split() for l in f if l.strip() and not l.startswith("#"))
    except OSError:
        return {}


golden_lines = [l.split() for l in open(golden_path) if l.strip() and not l.startswith("#")]
results = [(name, read(path)) for name, path in columns]
width = max(len(n) for n, _ in golden_lines)
print(f"{'case':<{width}}  {'golden':<16}  " + "  ".join(f"{n:<17}" for n, _ in results))
bad = {n: 0 for n, _ in results}
for key, want in golden_lines:
    cells = []
    for name, got in results:
        h = got.get(key)
        if h == want:
            cells.append(f" {h}")
        else:
            bad[name] += 1
            cells.append(f"!{(h or 'missing'):<16}")
    print(f"{key:<{width}}  {want}  " + "  ".join(cells))
print()
for name, got in results:
    extra = len(set(got) - {k for k, _ in golden_lines})
    status = "identical" if bad[name] == 0 and extra == 0 else f"{bad[name]} differ or missing, {extra} unexpected"
    print(f"{name:>14}: {len(got)} lines, {status}")
ok = all(v == 0 for v in bad.values()) and all(len(got) == len(golden_lines) for _, got in results)
print(f"crosscheck: {len(golden_lines)} golden lines x {len(results)} implementations: " + ("every column identical" if ok else "MISMATCH"))
sys.exit(0 if ok else 1)
