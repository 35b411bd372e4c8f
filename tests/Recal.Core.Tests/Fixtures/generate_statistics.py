#!/usr/bin/python3
"""Regenerates statistics.json: reference values from SciPy/NumPy for Recal's statistics tests.

Run with Debian's python3 (python3-scipy, python3-numpy): /usr/bin/python3 generate_statistics.py
"""
import json
import os

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.stats import binomtest, chi2_contingency, entropy

rng = np.random.default_rng(20261122)


def counts(k, total, zero_share):
    weights = rng.dirichlet(np.full(k, 0.7))
    c = rng.multinomial(total, weights).astype(float)
    mask = rng.random(k) < zero_share
    c[mask] = 0
    if c.sum() == 0:
        c[0] = 1
    return c


def pooled_table(a, b, min_expected=5.0):
    """The documented small-sample rule, written independently of the C# code."""
    cells = [(x, y) for x, y in zip(a, b) if x + y > 0]
    na, nb = sum(x for x, _ in cells), sum(y for _, y in cells)
    n = na + nb
    threshold = min_expected * n / min(na, nb)
    cells.sort(key=lambda c: c[0] + c[1])
    pool, pooled = [0, 0], 0
    while pooled < len(cells) and (cells[pooled][0] + cells[pooled][1] < threshold or (pooled > 0 and sum(pool) < threshold)):
        pool[0] += cells[pooled][0]
        pool[1] += cells[pooled][1]
        pooled += 1
    table = cells[pooled:]
    if pooled > 0:
        table.append(tuple(pool))
    return table, pooled


def homogeneity(a, b):
    table, pooled = pooled_table(a, b)
    entry = {"a": a, "b": b, "categories_tested": len(table), "categories_pooled": pooled}
    if len(table) >= 2:
        t = np.array(table).T
        for name, lam in (("pearson", None), ("g", "log-likelihood")):
            stat, p, dof, _ = chi2_contingency(t, correction=False, lambda_=lam)
            entry[name] = {"statistic": float(stat), "p_value": float(p), "dof": int(dof)}
    return entry


cases = {"js": [], "kl": [], "psi": [], "homogeneity": [], "wilson": []}
sizes = [(20, 20), (300, 3000), (500, 1_000_000), (50, 50_000), (5, 7), (1000, 1000)]
for i in range(48):
    k = [2, 3, 5, 10, 46, 151, 160][i % 7]
    na, nb = sizes[i % len(sizes)]
    a = counts(k, na, 0.15 if i % 3 else 0.0)
    b = counts(k, nb, 0.05 if i % 2 else 0.0)
    cases["js"].append({"p": a.tolist(), "q": b.tolist(), "distance": float(jensenshannon(a, b, base=2))})
    cases["kl"].append({"p": b.tolist(), "q": a.tolist(), "pseudocount": 0.5,
                        "kl": float(entropy(b + 0.5, a + 0.5, base=2))})
    eps = 1e-4
    e = np.maximum(a / a.sum(), eps)
    ac = np.maximum(b / b.sum(), eps)
    cases["psi"].append({"expected": a.tolist(), "actual": b.tolist(), "epsilon": eps,
                         "psi": float(np.sum((ac - e) * np.log(ac / e)))})
    cases["homogeneity"].append(homogeneity(a.astype(int).tolist(), b.astype(int).tolist()))

# Hand-picked homogeneity cases: identical rows, tiny p-values, everything pooled.
for a, b in ([[50, 50, 50], [500, 500, 500]], [[100, 0, 0], [0, 100000, 5000]], [[1, 2], [1, 1]], [[0, 0, 30], [0, 0, 40]]):
    cases["homogeneity"].append(homogeneity(a, b))

for k, n in [(0, 1), (1, 1), (0, 10), (3, 10), (50, 100), (999, 1000), (12, 5000), (7, 37)]:
    for conf in (0.9, 0.95, 0.99):
        ci = binomtest(k, n).proportion_ci(confidence_level=conf, method="wilson")
        cases["wilson"].append({"k": k, "n": n, "confidence": conf, "lower": float(ci.low), "upper": float(ci.high)})

from scipy.stats import norm

cases["post_stratified"] = []
for i in range(30):
    k = int(rng.integers(1, 25))
    n = rng.integers(0, 60, size=k)
    passes = np.array([rng.integers(0, c + 1) if c > 0 else 0 for c in n])
    weights = rng.dirichlet(np.full(k, 0.8)) * float(rng.choice([1.0, 1000.0]))
    conf = [0.9, 0.95, 0.99][i % 3]
    z = norm.ppf(1 - (1 - conf) / 2)
    m = n > 0
    entry = {"passes": passes.tolist(), "cases": n.tolist(), "weights": weights.tolist(), "confidence": conf}
    if m.any():
        w = weights[m] / weights[m].sum()
        p = passes[m] / n[m]
        adj = (passes[m] + z * z / 2) / (n[m] + z * z)
        se = float(np.sqrt(np.sum(w * w * adj * (1 - adj) / n[m])))
        est = float(np.sum(w * p))
        entry.update({"estimate": est, "se": se, "lower": max(0.0, est - z * se), "upper": min(1.0, est + z * se),
                      "unmeasured": float(1 - weights[m].sum() / weights.sum())})
    cases["post_stratified"].append(entry)

from sklearn.metrics import cohen_kappa_score

cases["kappa"] = []
labels = ["pass", "fail", "borderline", "skip"]
for i in range(30):
    n = int(rng.integers(2, 200))
    k = int(rng.integers(2, 5))
    a = rng.choice(labels[:k], size=n)
    agree = rng.random(n) < rng.uniform(0.3, 0.95)
    b = np.where(agree, a, rng.choice(labels[:k], size=n))
    if len(set(a) | set(b)) < 2:
        continue
    cases["kappa"].append({"a": a.tolist(), "b": b.tolist(), "kappa": float(cohen_kappa_score(a, b)),
                           "accuracy": float(np.mean(a == b))})

cases["mcnemar"] = []
for b, c in [(0, 0), (0, 1), (1, 1), (3, 0), (10, 2), (25, 25), (40, 12), (0, 60), (7, 30), (150, 120), (500, 430)]:
    n = b + c
    p = 1.0 if n == 0 else float(binomtest(b, n, 0.5).pvalue)
    cases["mcnemar"].append({"b": b, "c": c, "p_value": p})

import sklearn

cases["generator"] = {"scipy": scipy.__version__, "numpy": np.__version__, "sklearn": sklearn.__version__}
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "statistics.json")
with open(out, "w") as f:
    json.dump(cases, f, indent=1)
print("wrote", out)
