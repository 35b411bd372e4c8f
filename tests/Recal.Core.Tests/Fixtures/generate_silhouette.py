#!/usr/bin/python3
"""Regenerates silhouette.json: mean and per-point silhouettes under cosine distance, from scikit-learn.

Run with Debian's python3 (python3-sklearn, python3-numpy): /usr/bin/python3 generate_silhouette.py
Each case holds float32 points (written exactly), integer labels and what silhouette_score and
silhouette_samples(metric="cosine") give for them, computed in float64 from the same float32 values.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_samples, silhouette_score

rng = np.random.default_rng(20261130)


def blobs(k, per_cluster, dimensions, spread):
    centres = rng.normal(size=(k, dimensions))
    points = np.concatenate([c + spread * rng.normal(size=(per_cluster, dimensions)) for c in centres])
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def case(name, points, labels):
    points = points.astype(np.float32)
    exact = points.astype(np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    return {
        "name": name,
        "dimensions": int(points.shape[1]),
        "points": [[float(x) for x in row] for row in points],
        "labels": [int(label) for label in labels],
        "mean": float(silhouette_score(exact, labels, metric="cosine")),
        "samples": [float(s) for s in silhouette_samples(exact, labels, metric="cosine")],
    }


cases = []

# Well-separated clusters, labelled by scikit-learn's own k-means.
points = blobs(4, 30, 16, 0.3)
cases.append(case("four blobs, k-means labels", points, KMeans(4, n_init=10, random_state=0).fit_predict(points)))

# Overlapping clusters with arbitrary labels: negative silhouettes too.
points = blobs(3, 40, 8, 1.5)
cases.append(case("overlapping blobs, random labels", points, rng.integers(0, 5, size=len(points))))

# A singleton cluster (its point scores 0), labels not numbered from 0, and a zero vector (distance 1 to all).
points = blobs(2, 20, 6, 0.5)
points = np.vstack([points, np.zeros((1, 6))])
labels = np.array([7] * 20 + [3] * 19 + [11] + [3])
cases.append(case("a singleton, a zero vector and sparse label numbers", points, labels))

# Unnormalised vectors: the cosine distance normalises them.
points = rng.normal(size=(50, 12)) * rng.uniform(0.1, 10, size=(50, 1))
cases.append(case("unnormalised vectors", points, KMeans(3, n_init=10, random_state=1).fit_predict(points / np.linalg.norm(points, axis=1, keepdims=True))))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "silhouette.json")
with open(out, "w", encoding="utf-8") as f:
    json.dump({"generator": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}", "cases": cases}, f, indent=1)
    f.write("\n")
print(f"wrote {len(cases)} cases to {out}")
