#!/usr/bin/python3
"""Regenerates cluster_agreement.json: adjusted Rand index and purity of clusterings against true labels.

Run with Debian's python3 (python3-sklearn, python3-numpy): /usr/bin/python3 generate_cluster_agreement.py
The adjusted Rand index is sklearn.metrics.adjusted_rand_score(truth, predicted); purity is computed from
sklearn.metrics.cluster.contingency_matrix (each predicted cluster's largest true class, summed, over n).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.metrics import adjusted_rand_score
from sklearn.metrics.cluster import contingency_matrix

rng = np.random.default_rng(20261203)


def case(name, truth, predicted):
    truth = [int(x) for x in truth]
    predicted = [int(x) for x in predicted]
    matrix = contingency_matrix(truth, predicted)
    return {
        "name": name,
        "truth": truth,
        "predicted": predicted,
        "ari": float(adjusted_rand_score(truth, predicted)),
        "purity": float(matrix.max(axis=0).sum() / matrix.sum()),
    }


def noisy(classes, n, flip):
    truth = rng.integers(0, classes, size=n)
    predicted = truth.copy()
    mask = rng.random(n) < flip
    predicted[mask] = rng.integers(0, classes, size=int(mask.sum()))
    return truth, predicted


cases = [
    case("identical", [0, 0, 1, 1, 2, 2], [5, 5, 7, 7, 9, 9]),
    case("sklearn docs: one cluster split", [0, 0, 1, 1], [0, 0, 1, 2]),
    case("sklearn docs: classes split over clusters", [0, 0, 1, 2], [0, 0, 1, 1]),
    case("sklearn docs: independent", [0, 0, 0, 0], [0, 1, 2, 3]),
    case("one cluster each", [1, 1, 1], [4, 4, 4]),
    case("singletons each", [0, 1, 2, 3], [3, 2, 1, 0]),
    case("worse than chance", [0, 0, 1, 1], [0, 1, 0, 1]),
]
for classes, n, flip in [(3, 60, 0.2), (10, 500, 0.4), (150, 4000, 0.5), (64, 3000, 0.3)]:
    truth, predicted = noisy(classes, n, flip)
    cases.append(case(f"{classes} classes, {n} items, {flip:.0%} relabelled", truth, predicted))
truth = rng.integers(0, 20, size=1000)
cases.append(case("20 classes merged into 5 clusters", truth, truth % 5))
cases.append(case("5 classes split into 40 clusters", truth % 5, rng.integers(0, 40, size=1000)))

out = {"generator": "generate_cluster_agreement.py", "sklearn": sklearn.__version__, "numpy": np.__version__, "cases": cases}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cluster_agreement.json"), "w") as f:
    json.dump(out, f, indent=1)
