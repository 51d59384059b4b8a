#!/usr/bin/env python3
"""Writes sampling_cases.json: rows of logits with the token that the sampling rule draws for them,
computed here from the rule's definition (numpy, float64 apart from the float32 inputs and q), for
ptk_sample on the GPU (native/tests/test_sampling.cpp) and the Java Sampler to agree on.

The rule: temperature T (0 = greedy: the largest logit, the lowest id on ties); top-k keeps every
logit >= the k-th largest; top-p, with w = exp((z - zmax) / T) over what top-k kept, removes the
smallest distinct logits (ties together) while the removed weight stays <= (1 - p) * sum w, never
the largest; then argmax over the kept ids of (z - zmax) / T - ln q, q = float32(-ln u) with u
from splitmix64 over (seed, path, step, token), ties to the lowest id. Logits lie on a 1/4 grid so
that ties are common; rows whose draw or top-p cut lies within rounding of a boundary are redrawn.
Run: python3 native/tests/data/make_sampling_cases.py (deterministic).
"""
import json
import math
import os

import numpy as np

M = (1 << 64) - 1
VOCAB = 64
ROWS = 16
MARGIN = 1e-3


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M
    return z ^ (z >> 31)


def exponential(seed, path, step, token):
    h = mix64((seed & M) ^ 0x9E3779B97F4A7C15)
    h = mix64(h ^ (((path & 0xFFFFFFFF) << 32) | (step & 0xFFFFFFFF)))
    h = mix64(h ^ (token & 0xFFFFFFFF))
    u = ((h >> 11) + 0.5) / 2.0**53
    return float(np.float32(-math.log(u)))


def draw(z, t, k, p, seed, path, step):
    """The token, or None when a decision lies within MARGIN of its boundary."""
    zmax = max(z)
    if t == 0:
        return z.index(zmax)
    s = float(np.float32(1) / np.float32(t))
    kept = list(range(VOCAB))
    if 0 < k < VOCAB:
        threshold = sorted(z, reverse=True)[k - 1]
        kept = [i for i in kept if z[i] >= threshold]
    if p < 1:
        w = {i: math.exp(s * (z[i] - zmax)) for i in kept}
        total = sum(w.values())
        limit = float(np.float32(1) - np.float32(p)) * total
        removed = 0.0
        for value in sorted({z[i] for i in kept}):
            if value == zmax:
                break
            group = sum(w[i] for i in kept if z[i] == value)
            if abs(removed + group - limit) < MARGIN * total:
                return None
            if removed + group > limit:
                break
            removed += group
            kept = [i for i in kept if z[i] != value]
    scores = sorted(((s * (z[i] - zmax) - math.log(exponential(seed, path, step, i)), i) for i in kept), reverse=True)
    if len(scores) > 1 and scores[0][0] - scores[1][0] < MARGIN:
        return None
    return scores[0][1]


def main():
    rng = np.random.default_rng(20261127)
    params = [  # temperature, top_k, top_p, seed
        (0.0, 0, 1.0, 0), (1.0, 0, 1.0, 11), (0.6, 5, 1.0, 12), (1.2, 0, 0.8, 13),
        (0.8, 12, 0.7, 14), (2.0, 1, 1.0, 15), (1.0, 0, 0.3, 16), (0.5, 3, 0.9, -17)]
    cases = []
    for t, k, p, seed in params:
        rows = []
        while len(rows) < ROWS:
            z = [float(x) + 0.0 for x in np.round(rng.normal(0.0, 1.5, VOCAB) * 4) / 4]
            if len(rows) % 4 == 0:  # a tie at the top
                z[int(rng.integers(VOCAB))] = max(z)
            path, step = int(rng.integers(0, 9)), int(rng.integers(0, 1 << 20))
            token = draw(z, t, k, p, seed, path, step)
            if token is not None:
                rows.append({"path": path, "step": step, "token": token, "logits": z})
        cases.append({"temperature": t, "top_k": k, "top_p": p, "seed": seed, "rows": rows})
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sampling_cases.json")
    with open(out, "w") as f:
        json.dump({"vocab": VOCAB, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
