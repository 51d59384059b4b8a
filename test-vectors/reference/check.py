"""Regenerates every vector into a temp dir and compares with the committed files.

Tensors: inputs and integer tensors exactly, expected outputs within the case's manifest tolerance
(|got - want| <= atol + rtol*|want|, NaN never passes, equal infinities pass); JSON exactly (the
flow's float min_margin within 1e-4); tiny-model files byte-exact. Exit status 1 on any failure.

Usage: /usr/bin/python3 test-vectors/reference/check.py [--dir test-vectors]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import st_io  # noqa: E402

MODEL_FILES = ["config.json", "generation_config.json", "model.safetensors", "tokenizer.json",
               "tokenizer_config.json"]


def close(got, want, tol):
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False, "shape %s != %s" % (got.shape, want.shape)
    with np.errstate(invalid="ignore"):
        same_inf = np.isinf(want) & (got == want)
        ok = (np.abs(got - want) <= tol["atol"] + tol["rtol"] * np.abs(want)) | same_inf
    ok &= ~np.isnan(got) & ~np.isnan(want)
    if ok.all():
        return True, ""
    bad = np.argwhere(~ok)[0]
    with np.errstate(invalid="ignore"):
        err = np.nanmax(np.where(np.isfinite(want), np.abs(got - want), 0.0))
    return False, "%d bad, first at %s got %r want %r, max err %.3g" % (
        int((~ok).sum()), tuple(int(i) for i in bad), float(got[tuple(bad)]), float(want[tuple(bad)]), err)


def strip_margin(doc):
    doc = json.loads(json.dumps(doc))
    m = None
    if isinstance(doc, dict):
        if "min_margin" in doc:
            m = doc.pop("min_margin")
        if isinstance(doc.get("scalars"), dict) and "min_margin" in doc["scalars"]:
            m = doc["scalars"].pop("min_margin")
    return doc, m


def cmp_json(a_path, b_path):
    with open(a_path, encoding="utf-8") as f:
        a = json.load(f)
    with open(b_path, encoding="utf-8") as f:
        b = json.load(f)
    a, ma = strip_margin(a)
    b, mb = strip_margin(b)
    if a != b:
        return False, "JSON differs"
    if (ma is None) != (mb is None) or (ma is not None and abs(ma - mb) > 1e-4):
        return False, "min_margin %r != %r" % (ma, mb)
    return True, ""


def cmp_case(case, new_case, ref_dir, new_dir):
    a, b = strip_margin(case)
    c, d = strip_margin(new_case)
    if a != c:
        return False, "manifest entry differs"
    if b is not None and abs(b - d) > 1e-4:
        return False, "manifest min_margin differs"
    msgs = []
    f = case["file"]
    if f.endswith(".json"):
        ok, m = cmp_json(os.path.join(ref_dir, f), os.path.join(new_dir, f))
        return ok, m
    if "tokens" in case:
        ok, m = cmp_json(os.path.join(ref_dir, case["tokens"]), os.path.join(new_dir, case["tokens"]))
        if not ok:
            return False, "tokens: " + m
    want = st_io.load(os.path.join(ref_dir, f))
    got = st_io.load(os.path.join(new_dir, f))
    if sorted(want) != sorted(got):
        return False, "tensor names differ"
    for name in sorted(want):
        wd, wa = want[name]
        gd, ga = got[name]
        if wd != gd or wa.shape != ga.shape:
            return False, "%s: dtype/shape differ" % name
        if name in case["inputs"] or wd in ("I32", "I64", "U8", "BF16"):
            if wa.tobytes() != ga.tobytes():
                return False, "%s: input differs" % name
        else:
            ok, m = close(st_io.as_f64(gd, ga), st_io.as_f64(wd, wa), case["tolerance"])
            if not ok:
                msgs.append("%s: %s" % (name, m))
    return (not msgs), "; ".join(msgs)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=os.path.dirname(HERE))
    args = ap.parse_args()
    ref_dir = args.dir
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), "--out", tmp],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode != 0:
            print(r.stdout)
            print("generate.py failed")
            print("0 passed, 1 failed")
            sys.exit(1)
        for fn in MODEL_FILES:
            with open(os.path.join(ref_dir, "tiny-model", fn), "rb") as f1, open(os.path.join(tmp, "tiny-model", fn), "rb") as f2:
                ok = f1.read() == f2.read()
            print("%-34s %-12s %s" % ("tiny-model/" + fn, "file", "PASS" if ok else "FAIL (bytes differ)"))
            passed, failed = passed + ok, failed + (not ok)
        with open(os.path.join(ref_dir, "manifest.json"), encoding="utf-8") as f:
            man = json.load(f)
        with open(os.path.join(tmp, "manifest.json"), encoding="utf-8") as f:
            new = json.load(f)
        top_ok = {k: v for k, v in man.items() if k != "cases"} == {k: v for k, v in new.items() if k != "cases"}
        print("%-34s %-12s %s" % ("manifest.json", "manifest", "PASS" if top_ok else "FAIL (header differs)"))
        passed, failed = passed + top_ok, failed + (not top_ok)
        new_cases = {c["name"]: c for c in new["cases"]}
        for c in man["cases"]:
            if c["name"] not in new_cases:
                ok, m = False, "not regenerated"
            else:
                try:
                    ok, m = cmp_case(c, new_cases[c["name"]], ref_dir, tmp)
                except Exception as e:  # noqa: BLE001
                    ok, m = False, "error: %r" % (e,)
            print("%-34s %-12s %s" % (c["name"], c["kind"], "PASS" if ok else "FAIL " + m))
            passed, failed = passed + ok, failed + (not ok)
        for name in sorted(set(new_cases) - {c["name"] for c in man["cases"]}):
            print("%-34s %-12s %s" % (name, new_cases[name]["kind"], "FAIL (not committed)"))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
