#!/usr/bin/python3
"""The NumPy reference for the coverage benchmark: nearest case per query by cosine over unit vectors, in blocks of
rows (matrix product, then row-wise max and argmax), never holding the full similarity matrix.

Needs Debian's python3-numpy and libopenblas0-pthread (python3-threadpoolctl names the kernel). It prints the BLAS,
its kernel (OpenBLAS's core name) and thread count, and exits 3 without a figure when NumPy runs on the reference
BLAS, which is some 50 times slower and makes any comparison meaningless. bench/coverage-vs-numpy.sh runs it with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS picks the kernel for this processor itself.
Usage: /usr/bin/python3 bench/coverage_numpy.py [queries] [cases] [dimensions] [block]
"""
import ctypes
import sys
import time

import numpy as np


def blas_info():
    """(library, kernel, threads) of the BLAS NumPy calls, from threadpoolctl or from OpenBLAS itself."""
    try:
        from threadpoolctl import threadpool_info

        for pool in threadpool_info():
            if pool.get("user_api") == "blas":
                return pool.get("internal_api", "?"), pool.get("architecture", "?"), pool.get("num_threads", 0)
    except ImportError:
        pass
    for name in ("libopenblas.so.0", "libopenblasp.so.0"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return "openblas", lib.openblas_get_corename().decode(), lib.openblas_get_num_threads()
    return "reference", "none", 1


q, c, d = (int(a) for a in (sys.argv[1:4] + ["100000", "5000", "256"][len(sys.argv[1:4]):]))
block = int(sys.argv[4]) if len(sys.argv) > 4 else 4096
library, kernel, threads = blas_info()
if library not in ("openblas", "mkl", "blis"):
    print(f"numpy {np.__version__} runs on the {library} BLAS: no figure (install libopenblas0-pthread)", file=sys.stderr)
    sys.exit(3)
rng = np.random.default_rng(7)
cases = rng.standard_normal((c, d), dtype=np.float32)
cases /= np.linalg.norm(cases, axis=1, keepdims=True)
queries = cases[rng.integers(0, c, q)] + 0.5 * rng.standard_normal((q, d), dtype=np.float32)
queries /= np.linalg.norm(queries, axis=1, keepdims=True)
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
print(f"numpy={np.__version__} blas={library} blas_kernel={kernel} blas_threads={threads} queries={q} cases={c} dimensions={d} block={block} best_s={best:.3f} gflops={flops / best / 1e9:.1f}")
