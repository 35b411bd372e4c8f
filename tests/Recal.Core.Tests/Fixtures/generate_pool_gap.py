#!/usr/bin/python3
"""Regenerates pool_gap.json: Fisher's exact test and Newcombe's interval for two pass rates, from SciPy.

Run with Debian's python3 (python3-scipy, python3-numpy): /usr/bin/python3 generate_pool_gap.py
Newcombe's method 10 is written here from its definition, on SciPy's Wilson intervals.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy.stats import binomtest, fisher_exact

rng = np.random.default_rng(20261129)


def wilson(k, n, confidence):
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


def newcombe(k1, n1, k2, n2, confidence):
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1, confidence)
    l2, u2 = wilson(k2, n2, confidence)
    d = p1 - p2
    return d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)


cases = []
fixed = [(498, 498, 80, 100), (412, 498, 81, 100), (0, 10, 10, 10), (5, 10, 5, 10), (1, 1, 0, 1), (0, 7, 0, 9),
         (30, 30, 2, 40), (144, 300, 241, 300), (3, 3, 1, 3)]
for i in range(40):
    n1 = int(rng.integers(1, 600))
    n2 = int(rng.integers(1, 400))
    fixed.append((int(rng.integers(0, n1 + 1)), n1, int(rng.integers(0, n2 + 1)), n2))
for k1, n1, k2, n2 in fixed:
    _, p = fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="two-sided")
    lower, upper = newcombe(k1, n1, k2, n2, 0.95)
    cases.append({"k1": k1, "n1": n1, "k2": k2, "n2": n2, "fisher_p": float(p), "lower": lower, "upper": upper})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pool_gap.json")
with open(out, "w") as f:
    json.dump({"cases": cases, "generator": {"scipy": scipy.__version__, "numpy": np.__version__}}, f, indent=1)
print("wrote", out)

# Spearman rank correlation with ties, and its two-sided p-value (t approximation), as in scipy.stats.spearmanr.
from scipy.stats import spearmanr

spearman = []
for i in range(25):
    n = int(rng.integers(3, 60))
    x = rng.integers(0, 12, size=n).astype(float) / 12
    y = np.where(rng.random(n) < 0.6, x + rng.normal(0, 0.2, size=n), rng.random(n))
    y = np.round(y, 2)
    if np.all(x == x[0]) or np.all(y == y[0]):
        continue
    rho, p = spearmanr(x, y)
    spearman.append({"x": x.tolist(), "y": y.tolist(), "rho": float(rho), "p_value": float(p)})

with open(out) as f:
    data = json.load(f)
data["spearman"] = spearman
with open(out, "w") as f:
    json.dump(data, f, indent=1)
print("added", len(spearman), "Spearman cases")
