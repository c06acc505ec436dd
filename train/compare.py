"""Bundles side by side on the shared validation sets, at several presence
thresholds, in one run (the same frames for every bundle):

    python -m handsdk.train.compare --bundle a.handsdk --bundle b.handsdk \
        [--presence 0.95,0.97,0.99] [--limit 300] [--json out.json]

For each set, bundle and threshold: hands found on the human box and false
hands per image (camera scenes), commands per human-labelled hand end to end
beside the same GestureNet on MediaPipe's keypoints of those hands, PCK@0.2 against the pseudo-labels end to end
and on the keypoint box (the landmarker alone), letters end to end, and the
detection rate: :func:`handsdk.train.evaluation.evaluate`, as ``handsdk
build-default`` evaluates its bundle (:data:`handsdk.train.release.EVALUATION`).
A new landmarker is calibrated differently from the one before: its presence
threshold is read off this table, never assumed.
"""
from __future__ import annotations

import argparse
import json
import sys
import time


def compare(bundles, presences, *, root=None, limit: int = 300, sets=None, progress=print) -> dict:
    from handsdk import GestureRecognizer, GestureRecognizerOptions
    from handsdk.train.evaluation import evaluate
    from handsdk.train.release import EVALUATION, _short, commands_table, evaluation_samples

    known = {name: f"{name}/{split}" if split else name for name, split, _ in EVALUATION}
    wanted = set()
    for x in sets or ():  # a set's name, or the name the results give it (with its split)
        hit = [n for n, key in known.items() if x in (n, key)]
        if not hit:
            raise ValueError(f"unknown set {x!r}: one of {', '.join(known.values())}")
        wanted.update(hit)
    res: dict = {}
    for name, split, gset in EVALUATION:
        if wanted and name not in wanted:
            continue
        samples = evaluation_samples(name, split, root, limit)
        if samples is None:
            continue
        key = f"{name}/{split}" if split else name
        res[key] = {}
        for b in bundles:
            for p in presences:
                opts = GestureRecognizerOptions(bundle=b, color_order="RGB", max_hands=2,
                                                **({} if p is None else {"min_presence_score": p}))
                t0 = time.perf_counter()
                with GestureRecognizer(opts) as rec:
                    r = evaluate(rec, samples, gesture_set=gset if gset in rec.classifiers else None,
                                 commands=commands_table(name))
                s = _short(r)
                res[key][f"{b}@{'bundle' if p is None else p}"] = s
                progress(f"{key} {b} presence {p}: {json.dumps(s)} ({time.perf_counter() - t0:.0f}s)")
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m handsdk.train.compare", description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", action="append", required=True, help="a bundle (repeat to compare)")
    ap.add_argument("--presence", default="", help="comma-separated presence thresholds (default: each bundle's)")
    ap.add_argument("--sets", default="", help="comma-separated names of release.EVALUATION, with or without "
                                               "their split (webcam_signs or webcam_signs/valid; default: all)")
    ap.add_argument("--limit", type=int, default=300)
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args(argv)
    try:
        pres = [float(x) for x in a.presence.split(",") if x] or [None]
    except ValueError:
        print(f"error: --presence must be numbers, got {a.presence!r}", file=sys.stderr)
        return 2
    try:
        res = compare(a.bundle, pres, root=a.data_root, limit=a.limit, sets={s for s in a.sets.split(",") if s})
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
