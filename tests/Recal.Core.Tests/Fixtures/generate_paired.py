#!/usr/bin/python3
"""Regenerates paired.json: two runs' verdicts on the same cases, from SciPy.

Run with Debian's python3 (python3-scipy, python3-numpy): /usr/bin/python3 generate_paired.py
- Newcombe's paired interval (his 1998 method 10) is written here from its definition, on SciPy's Wilson intervals;
  the published example (Fagerland, Lydersen and Laake, the paired table [[59, 6], [16, 80]]: -0.0621, 95% CI
  -0.1186 to -0.0046) is checked before writing.
- McNemar's exact p is scipy.stats.binomtest(b, b + c, 0.5).
- The paired mean difference's t interval is d ± t·s/√n with the t quantile from mpmath at 40 digits (the inverse of
  the regularised incomplete beta): SciPy 1.10's t.ppf(0.975, 40) is 2.0210753830, 7e-9 below the true 2.0210753903,
  enough to move an interval by 1e-9. The mean and spread are NumPy's.
"""
import json
import math
import os

import numpy as np
import scipy
import mpmath
from scipy.stats import binomtest

rng = np.random.default_rng(20261203)


def wilson(k, n, confidence):
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    return ci.low, ci.high


def newcombe_paired(a, b, c, d, confidence):
    """Interval for p1 - p2 with p1 = (a+b)/n, p2 = (a+c)/n."""
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, confidence)
    l2, u2 = wilson(a + c, n, confidence)
    product = (a + b) * (c + d) * (a + c) * (b + d)
    phi = 0.0
    if product > 0:
        cross = a * d - b * c
        corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0)
        phi = corrected / math.sqrt(product)
    diff = p1 - p2
    lower = diff - math.sqrt(max(0.0, (p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2))
    upper = diff + math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    return max(-1.0, lower), min(1.0, upper)


def t_quantile(probability, freedom):
    mpmath.mp.dps = 40
    tail = mpmath.mpf(1 - probability)

    def upper_tail(x):
        return mpmath.betainc(freedom / 2, mpmath.mpf(1) / 2, 0, freedom / (freedom + x * x), regularized=True) / 2 - tail

    return float(mpmath.findroot(upper_tail, 2.0))


published = newcombe_paired(59, 6, 16, 80, 0.95)
assert round(published[0], 4) == -0.1186 and round(published[1], 4) == -0.0046, published

tables = [(59, 6, 16, 80), (412, 0, 86, 0), (0, 0, 0, 1), (5, 0, 0, 5), (10, 3, 3, 10), (0, 5, 0, 0), (80, 1, 0, 19),
          (1, 1, 1, 1), (300, 12, 40, 148)]
for _ in range(40):
    n = int(rng.integers(1, 700))
    shares = rng.dirichlet([4, 1, 1, 2])
    counts = rng.multinomial(n, shares)
    tables.append(tuple(int(x) for x in counts))

paired = []
for a, b, c, d in tables:
    # In the product's terms: a both passed, b only the baseline passed (newly failing), c only the candidate
    # passed (newly passing), d neither; the difference is candidate - baseline = p2 - p1.
    lower, upper = newcombe_paired(a, b, c, d, 0.95)
    p = 1.0 if b + c == 0 else float(binomtest(b, b + c, 0.5).pvalue)
    paired.append({"both_passed": a, "newly_failing": b, "newly_passing": c, "both_failed": d,
                   "difference": (c - b) / (a + b + c + d), "lower": -upper, "upper": -lower, "mcnemar_p": p})

means = []
for _ in range(15):
    n = int(rng.integers(2, 80))
    x = rng.integers(1, 6, size=n).astype(float)
    y = np.clip(x + rng.integers(-2, 3, size=n), 1, 5).astype(float)
    if np.all(x - y == (x - y)[0]):
        continue
    diff = y - x
    half = t_quantile(0.975, n - 1) * float(np.std(diff, ddof=1)) / math.sqrt(n)
    means.append({"baseline": x.tolist(), "candidate": y.tolist(), "difference": float(np.mean(diff)),
                  "lower": float(np.mean(diff)) - half, "upper": float(np.mean(diff)) + half})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paired.json")
with open(out, "w") as f:
    json.dump({"paired": paired, "mean_differences": means,
               "generator": {"scipy": scipy.__version__, "numpy": np.__version__, "mpmath": mpmath.__version__}}, f, indent=1)
print("wrote", out, len(paired), "tables", len(means), "mean differences")
