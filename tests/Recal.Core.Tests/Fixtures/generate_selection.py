#!/usr/bin/python3
"""Regenerates selection.json: the expected maximum of k independent standard normals, from SciPy.

Run with Debian's python3 (python3-scipy): /usr/bin/python3 generate_selection.py
E[max] = integral of x * k * phi(x) * Phi(x)^(k-1) over the real line, by scipy.integrate.quad; k = 2 is 1/sqrt(pi).
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import integrate, stats

values = []
for k in [2, 3, 4, 5, 7, 10, 14, 20, 30, 50, 100, 200, 500, 1000]:
    f = lambda x, k=k: x * k * stats.norm.pdf(x) * stats.norm.cdf(x) ** (k - 1)
    value, _ = integrate.quad(f, -np.inf, np.inf, epsabs=1e-14, epsrel=1e-13, limit=200)
    values.append({"k": k, "expected_maximum": value})
assert abs(values[0]["expected_maximum"] - 1 / math.sqrt(math.pi)) < 1e-13

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "selection.json")
with open(out, "w") as f:
    json.dump({"values": values, "generator": {"scipy": scipy.__version__, "numpy": np.__version__}}, f, indent=1)
print("wrote", out)
