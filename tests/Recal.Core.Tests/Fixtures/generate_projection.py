#!/usr/bin/python3
"""Regenerates projection.json: the first two principal components of row sets, as the coverage map projects them.

Run with Debian's python3 (python3-sklearn, python3-numpy): /usr/bin/python3 generate_projection.py
Each case is float32 rows; the reference is sklearn.decomposition.PCA(n_components=2, svd_solver="full") fitted on them:
explained_variance_ratio_, and transform(rows) with each component's sign flipped so that its entry of largest
magnitude is positive (the convention CoverageProjection documents).
"""
import json
import os

import numpy as np
import sklearn
from sklearn.decomposition import PCA

rng = np.random.default_rng(20261204)


def case(name, rows):
    rows = np.asarray(rows, dtype=np.float32)
    pca = PCA(n_components=2, svd_solver="full").fit(rows.astype(np.float64))
    components = pca.components_.copy()
    for c in range(components.shape[0]):
        if components[c, np.argmax(np.abs(components[c]))] < 0:
            components[c] = -components[c]
    projected = (rows.astype(np.float64) - pca.mean_) @ components.T
    return {
        "name": name,
        "dimensions": int(rows.shape[1]),
        "rows": [float(x) for x in rows.ravel()],
        "explained": [float(x) for x in pca.explained_variance_ratio_],
        "projected": [[float(v) for v in row] for row in projected],
    }


def unit(rows):
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


cases = []
# Anisotropic Gaussian: variances 9, 4, 1, 0.25 ... along random orthogonal axes.
basis, _ = np.linalg.qr(rng.normal(size=(12, 12)))
scales = np.array([3.0, 2.0, 1.0, 0.5] + [0.2] * 8)
cases.append(case("anisotropic gaussian 60 x 12", (rng.normal(size=(60, 12)) * scales) @ basis.T + 1.5))
# Unit vectors in three clusters, as embeddings are (two clusters far apart, one between).
centres = unit(rng.normal(size=(3, 24)))
members = np.concatenate([centres[i] + 0.15 * rng.normal(size=(40, 24)) for i in range(3)])
cases.append(case("three clusters of unit vectors 120 x 24", unit(members)))
# More dimensions than rows.
cases.append(case("wide 20 x 64", rng.normal(size=(20, 64)) * np.linspace(2.0, 0.1, 64)))

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "projection.json")
with open(path, "w", encoding="utf-8") as out:
    json.dump({"generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}", "cases": cases}, out, indent=1)
    out.write("\n")
