#!/usr/bin/python3
"""The NumPy reference for the coverage benchmark: nearest case per query by cosine over unit vectors, in blocks of
rows (matrix product, then row-wise max and argmax), never holding the full similarity matrix.

Needs Debian's python3-numpy and libopenblas0-pthread (without it NumPy falls back to the slow reference BLAS).
Usage: /usr/bin/python3 bench/coverage_numpy.py [queries] [cases] [dimensions] [block]
"""
import sys
import time

import numpy as np

q, c, d = (int(a) for a in (sys.argv[1:4] + ["100000", "5000", "256"][len(sys.argv[1:4]):]))
block = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
rng = np.random.default_rng(7)
cases = rng.standard_normal((c, d), dtype=np.float32)
cases /= np.linalg.norm(cases, axis=1, keepdims=True)
queries = cases[rng.integers(0, c, q)] + 0.5 * rng.standard_normal((q, d), dtype=np.float32)
queries /= np.linalg.norm(queries, axis=1, keepdims=True)
try:
    import ctypes.util
    blas = ctypes.util.find_library("openblas") or "reference BLAS (install libopenblas0-pthread)"
except Exception:  # noqa: BLE001 - the BLAS name is informative only
    blas = "unknown"
best = float("inf")
for _ in range(3):
    start = time.perf_counter()
    nearest = np.empty(q, dtype=np.int64)
    similarity = np.empty(q, dtype=np.float32)
    for i in range(0, q, block):
        s = queries[i:i + block] @ cases.T
        nearest[i:i + block] = s.argmax(axis=1)
        similarity[i:i + block] = s[np.arange(s.shape[0]), nearest[i:i + block]]
    best = min(best, time.perf_counter() - start)
flops = 2.0 * q * c * d
print(f"numpy {np.__version__} (BLAS: {blas}), {q:,} x {c:,} x {d}, blocks of {block:,} rows: best of 3 {best:.2f} s, {flops / best / 1e9:.0f} GFLOP/s")
