#!/usr/bin/python3
"""Regenerates judge_agreement.json: reference figures for recal judge-agreement from scikit-learn, SciPy and NumPy.

Run with Debian's python3 (python3-sklearn, python3-scipy, python3-numpy):
    /usr/bin/python3 generate_judge_agreement.py

Accuracy and Cohen's kappa come from sklearn.metrics (accuracy_score, cohen_kappa_score), the confusion matrices from
sklearn.metrics.confusion_matrix, the Wilson intervals from scipy.stats.binomtest(...).proportion_ci; the kappa standard
error (Fleiss, Cohen and Everitt 1969) and Fleiss' kappa are written here with NumPy from their published formulas.
"""
import json
import os

import numpy as np
from scipy.stats import binomtest, norm
from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix

rng = np.random.default_rng(20260412)
CONFIDENCE = 0.95
UNPARSED = "(unparsed)"
SMALL = 30


def flip(label):
    return {"A": "B", "B": "A"}.get(label, label)


def nan_to_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else float(x)


def kappa_se(a, b):
    labels = sorted(set(a) | set(b))
    table = confusion_matrix(a, b, labels=labels).astype(float)
    n = table.sum()
    p = table / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = np.trace(p), rows @ cols
    if pe >= 1:
        return None, None, None, None
    k = (po - pe) / (1 - pe)
    term_a = (np.diag(p) * (1 - (rows + cols) * (1 - k)) ** 2).sum()
    term_b = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(term_b, 0)
    term_b = (1 - k) ** 2 * term_b.sum()
    term_c = (k - pe * (1 - k)) ** 2
    se = np.sqrt(max(0.0, term_a + term_b - term_c) / (n * (1 - pe) ** 2))
    z = norm.ppf(1 - (1 - CONFIDENCE) / 2)
    return k, se, max(-1.0, k - z * se), min(1.0, k + z * se)


def compare(a, b):
    n = len(a)
    agreeing = int(sum(x == y for x, y in zip(a, b)))
    ci = binomtest(agreeing, n).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
    kappa = cohen_kappa_score(a, b) if len(set(a) | set(b)) > 1 else float("nan")
    k, se, lo, hi = kappa_se(a, b)
    if k is not None:
        assert abs(k - kappa) < 1e-12
    return {"items": n, "agreeing": agreeing, "accuracy": float(accuracy_score(a, b)),
            "accuracy_lower": float(ci.low), "accuracy_upper": float(ci.high),
            "kappa": nan_to_none(kappa), "kappa_standard_error": nan_to_none(se),
            "kappa_lower": nan_to_none(lo), "kappa_upper": nan_to_none(hi)}


def fleiss(ratings):
    labels = sorted({label for item in ratings for label in item})
    counts = np.array([[item.count(label) for label in labels] for item in ratings], dtype=float)
    n_items, m = counts.shape[0], counts.sum(axis=1)[0]
    p_i = ((counts ** 2).sum(axis=1) - m) / (m * (m - 1))
    p_bar = p_i.mean()
    p_j = counts.sum(axis=0) / (n_items * m)
    p_e = (p_j ** 2).sum()
    return float((p_bar - p_e) / (1 - p_e))


def row(judge, segment, items):
    human = [i["human"] for i in items]
    shown = [i["verdict"] for i in items]
    out = {"judge": judge, "segment": segment, "items": len(items), "small_sample": len(items) < SMALL,
           "shown": compare(human, shown)}
    unparsed = sum(v == UNPARSED for v in shown)
    pairs = [i for i in items if i["swapped_original"] is not None]
    out["pairwise_items"] = len(pairs)
    if pairs:
        h = [i["human"] for i in pairs]
        sw = [i["swapped_original"] for i in pairs]
        unparsed += sum(v == UNPARSED for v in sw)
        swapped = compare(h, sw)
        out["swapped"] = swapped
        out["mean_accuracy"] = (out["shown"]["accuracy"] + swapped["accuracy"]) / 2
        out["mean_kappa"] = (out["shown"]["kappa"] + swapped["kappa"]) / 2
        both = sum(i["verdict"] == i["human"] and i["swapped_original"] == i["human"] for i in pairs)
        out["correct_in_both_orders"] = both
        out["correct_in_both_orders_share"] = both / len(pairs)
        parsed = [i for i in pairs if i["verdict"] != UNPARSED and i["swapped_original"] != UNPARSED]
        out["between_orders"] = compare([i["verdict"] for i in parsed], [i["swapped_original"] for i in parsed])
        presented = [v for i in pairs for v in (i["verdict"], i["swapped_presented"])]
        decisive = sum(v in ("A", "B") for v in presented)
        first = sum(v == "A" for v in presented)
        ci = binomtest(first, decisive).proportion_ci(confidence_level=CONFIDENCE, method="wilson")
        inconsistent = [i for i in parsed if i["verdict"] != i["swapped_original"]]
        out["position_bias"] = {
            "decisive_verdicts": decisive, "first_shown": first, "share": first / decisive,
            "lower": float(ci.low), "upper": float(ci.high), "inconsistent_pairs": len(inconsistent),
            "first_both_times": sum(i["verdict"] == "A" and i["swapped_presented"] == "A" for i in inconsistent),
            "second_both_times": sum(i["verdict"] == "B" and i["swapped_presented"] == "B" for i in inconsistent)}
        out["ties"] = sum(v not in ("A", "B", UNPARSED) for v in presented)
    out["unparsed"] = unparsed
    return out


def expected(items):
    """The figures recal must report for items given in the presented frame with labels all known."""
    judges = list(dict.fromkeys(i["judge_id"] for i in items))
    vocabulary = sorted({i["human"] for i in items})
    mapped = []
    for i in items:
        verdict = i["judge"] if i["judge"] is not None else UNPARSED
        swapped = None
        if "judge_swapped" in i:
            swapped = i["judge_swapped"] if i["judge_swapped"] is not None else UNPARSED
        mapped.append(dict(i, verdict=verdict, swapped_presented=swapped, swapped_original=None if swapped is None else flip(swapped)))
    rows, confusion = [], []
    for judge in judges:
        own = [i for i in mapped if i["judge_id"] == judge]
        rows.append(row(judge, "(all)", own))
        for segment in sorted({i["segment"] for i in own}):
            rows.append(row(judge, segment, [i for i in own if i["segment"] == segment]))
        labels = list(vocabulary)
        if any(i["verdict"] == UNPARSED or i["swapped_original"] == UNPARSED for i in own):
            labels.append(UNPARSED)
        entry = {"judge": judge, "labels": labels,
                 "shown": confusion_matrix([i["human"] for i in own], [i["verdict"] for i in own], labels=labels).tolist()}
        pairs = [i for i in own if i["swapped_original"] is not None]
        if pairs:
            entry["swapped"] = confusion_matrix([i["human"] for i in pairs], [i["swapped_original"] for i in pairs], labels=labels).tolist()
        confusion.append(entry)
    parsed = {j: {i["id"]: i["verdict"] for i in mapped if i["judge_id"] == j and i["verdict"] != UNPARSED} for j in judges}
    between = []
    for x in range(len(judges)):
        for y in range(x + 1, len(judges)):
            first, second = parsed[judges[x]], parsed[judges[y]]
            shared = [k for k in first if k in second]
            between.append({"first": judges[x], "second": judges[y], "agreement": compare([first[k] for k in shared], [second[k] for k in shared])})
    result = {"judges": judges, "labels": vocabulary, "rows": rows, "confusion": confusion, "between_judges": between}
    if len(judges) >= 3:
        common = [k for k in parsed[judges[0]] if all(k in parsed[j] for j in judges)]
        result["fleiss"] = {"items": len(common), "kappa": fleiss([[parsed[j][k] for j in judges] for k in common])}
    return result


def pick(correct, others, accuracy, bias_label, bias):
    """A judge's verdict: the right answer with probability accuracy, else a wrong one, with a pull towards bias_label."""
    if bias_label is not None and rng.random() < bias:
        return bias_label
    if rng.random() < accuracy:
        return correct
    wrong = [o for o in others if o != correct]
    return wrong[rng.integers(len(wrong))]


def pairwise_dataset():
    judges = [("gpt-4", 0.82, 0.05, 0.01), ("claude", 0.75, 0.15, 0.02), ("llama", 0.6, 0.3, 0.05), ("mistral", 0.55, 0.2, 0.08)]
    segments = [("coding", 140), ("writing", 90), ("math", 60), ("roleplay", 18)]
    items = []
    for segment, n in segments:
        for q in range(n):
            human = ["A", "B", "tie"][rng.choice(3, p=[0.44, 0.44, 0.12])]
            for judge, accuracy, bias, unparsed in judges:
                shown = pick(human, ["A", "B", "tie"], accuracy, "A", bias)
                swapped = pick(flip(human), ["A", "B", "tie"], accuracy, "A", bias)
                item = {"id": f"{segment}-{q}", "segment": segment, "judge_id": judge, "human": human,
                        "judge": None if rng.random() < unparsed else shown,
                        "judge_swapped": None if rng.random() < unparsed else swapped}
                items.append(item)
    return items


def graded_dataset():
    judges = [("judge-a", 0.7), ("judge-b", 0.55), ("judge-c", 0.4)]
    items = []
    scores = ["1", "2", "3", "4", "5"]
    for segment, n in [("billing", 120), ("travel", 45), ("cards", 12)]:
        for q in range(n):
            human = scores[rng.choice(5, p=[0.1, 0.15, 0.25, 0.3, 0.2])]
            for judge, accuracy in judges:
                near = [s for s in scores if abs(int(s) - int(human)) <= 1]
                items.append({"id": f"{segment}-{q}", "segment": segment, "judge_id": judge, "human": human,
                              "judge": pick(human, near, accuracy, None, 0)})
    return items


def single_dataset():
    items = []
    for segment, n in [("billing", 200), ("travel", 35), ("oos", 9)]:
        for q in range(n):
            human = "pass" if rng.random() < 0.7 else "fail"
            items.append({"id": f"{segment}-{q}", "segment": segment, "judge_id": "judge", "human": human,
                          "judge": pick(human, ["pass", "fail"], 0.85, None, 0)})
    return items


datasets = []
for name, items in (("pairwise, four judges", pairwise_dataset()), ("graded 1-5, three judges", graded_dataset()), ("pass/fail, one judge", single_dataset())):
    datasets.append({"name": name, "items": items, "expected": expected(items)})

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "judge_agreement.json")
with open(out, "w") as f:
    json.dump({"generator": "generate_judge_agreement.py", "confidence": CONFIDENCE, "small_sample": SMALL, "datasets": datasets}, f, indent=1)
    f.write("\n")
