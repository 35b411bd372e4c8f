#!/usr/bin/python3
"""Regenerates calibration.json: the calibrated alarms' statistics from NumPy and SciPy.

Run with Debian's python3 (python3-scipy, python3-numpy): /usr/bin/python3 generate_calibration.py

- Pearson type III tail probabilities and quantiles: scipy.stats.pearson3(skew, loc=mean, scale=sd).
- One-sided Fisher exact test: scipy.stats.fisher_exact(alternative='greater').
- Dispersion factor: Pearson's X² of the pooled categories x periods table (scipy.stats.chi2_contingency without
  correction) over its degrees of freedom, the pooling rule written here from docs/statistics.md.
- The reference null of a mix measure, simulated with 200,000 draws (Dirichlet posterior of the reference counts with
  1/2 added, then a multinomial window): its median and upper quantiles, which a 1,000-draw fit must reproduce.
"""
import json
import os

import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, fisher_exact, pearson3

rng = np.random.default_rng(20261202)

pearson = []
for mean, sd, skew in [(0.2, 0.01, 0.0), (0.2, 0.01, 0.4), (0.25, 0.02, 1.3), (1.0, 0.5, -0.7), (0.0, 1.0, 2.5), (3.0, 0.1, 0.05)]:
    d = pearson3(skew, loc=mean, scale=sd)
    xs = [mean + k * sd for k in (-2, -0.5, 0, 1, 2.5, 4)]
    pearson.append({
        "mean": mean, "sd": sd, "skew": skew,
        "x": xs, "sf": [float(d.sf(x)) for x in xs],
        "tails": [0.05, 0.01, 0.001, 1e-4], "ppf": [float(d.isf(t)) for t in (0.05, 0.01, 0.001, 1e-4)],
    })

fisher = []
for _ in range(40):
    n1, n2 = int(rng.integers(1, 400)), int(rng.integers(1, 1500))
    k1, k2 = int(rng.integers(0, n1 + 1)), int(rng.integers(0, n2 + 1))
    fisher.append({"k1": k1, "n1": n1, "k2": k2, "n2": n2, "p": float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater")[1])})
for k1, n1, k2, n2 in [(240, 2000, 480, 8000), (30, 2000, 200, 8000), (0, 10, 0, 10), (10, 10, 0, 10)]:
    fisher.append({"k1": k1, "n1": n1, "k2": k2, "n2": n2, "p": float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater")[1])})
# Windows of a store with millions of traces: both tails, the middle, and the extremes of the support.
for k1, n1, k2, n2 in [(7800, 833000, 31000, 3333000), (8200, 833000, 31000, 3333000), (7000, 833000, 31000, 3333000),
                       (120000, 1000000, 1150000, 9000000), (121500, 1000000, 1080000, 9000000), (52, 200000, 180, 800000),
                       (0, 5000000, 12, 5000000), (5000000, 5000000, 4999990, 5000000), (2500123, 5000000, 2499000, 5000000)]:
    fisher.append({"k1": k1, "n1": n1, "k2": k2, "n2": n2, "p": float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], alternative="greater")[1])})


def dispersion(table, min_expected=5.0):
    table = np.asarray(table, dtype=float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2 or table.shape[0] < 2:
        return 1.0, 0.0, 0
    smallest = table.sum(axis=0).min() / table.sum()
    rows = table[table.sum(axis=1) > 0]
    sparse = rows.sum(axis=1) * smallest < min_expected
    kept = list(rows[~sparse])
    if sparse.any():
        pooled = rows[sparse].sum(axis=0)
        if pooled.sum() * smallest >= min_expected:
            kept.append(pooled)
    if len(kept) < 2:
        return 1.0, 0.0, 0
    chi2, _, dof, _ = chi2_contingency(np.array(kept), correction=False)
    return max(1.0, chi2 / dof), float(chi2), int(dof)


dispersions = []
for k, w, extra in [(30, 4, 0.0), (90, 4, 0.0), (20, 5, 0.3), (8, 2, 0.1), (50, 6, 0.6)]:
    p = rng.dirichlet(np.ones(k))
    table = []
    for _ in range(w):
        q = rng.dirichlet(p * (500 / extra)) if extra > 0 else p
        table.append(rng.multinomial(int(rng.integers(1500, 2500)), q))
    table = np.array(table).T
    phi, chi2, dof = dispersion(table)
    dispersions.append({"table": table.tolist(), "phi": phi, "chi_square": chi2, "df": dof})


def psi(expected, actual, eps=1e-4):
    e = np.maximum(expected / expected.sum(), eps)
    a = np.maximum(actual / actual.sum(axis=-1, keepdims=True), eps)
    return ((a - e) * np.log(a / e)).sum(axis=-1)


nulls = []
for k, n, shift in [(40, 2000, 0.5), (90, 2000, 0.3), (12, 400, 0.0)]:
    p = rng.dirichlet(np.ones(k) * 2)
    reference = rng.multinomial(4 * n, p)
    evalp = rng.dirichlet(p * 40) if shift > 0 else p
    eval_counts = rng.multinomial(500, (1 - shift) * p + shift * evalp)
    draws = 200_000
    probabilities = rng.dirichlet(reference + 0.5, size=draws)
    windows = rng.multinomial(n, probabilities)
    js = jensenshannon(np.broadcast_to(eval_counts, windows.shape), windows, axis=1, base=2)
    ps = psi(eval_counts.astype(float), windows.astype(float))
    nulls.append({
        "reference": reference.tolist(), "eval": eval_counts.tolist(), "window": n,
        "js": {"median": float(np.median(js)), "q99": float(np.quantile(js, 0.99)), "q999": float(np.quantile(js, 0.999))},
        "psi": {"median": float(np.median(ps)), "q99": float(np.quantile(ps, 0.99)), "q999": float(np.quantile(ps, 0.999))},
    })

out = {"scipy": scipy.__version__, "numpy": np.__version__, "pearson3": pearson, "fisher_greater": fisher, "dispersion": dispersions, "null": nulls}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "calibration.json"), "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
