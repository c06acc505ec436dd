"""Fuzzing the bundle loader: seeded mutations of a tiny test bundle's raw
bytes, its manifest text and its manifest structure. Whatever the mutation,
``load_bundle`` either returns a bundle that a recognizer can use, or raises
:class:`BundleError` -- never another exception type.

The suite runs a time-bounded sample (a few seconds); run this file as a
script for a longer campaign that prints the outcome counts by exception type:

    python tests/test_fuzz_bundle.py --n 3000
"""
from __future__ import annotations

import collections
import copy
import io
import json
import random
import sys
import time
import zipfile

import pytest

MANIFEST = "manifest.json"


def _entries(bundle_bytes):
    z = zipfile.ZipFile(io.BytesIO(bundle_bytes))
    return json.loads(z.read(MANIFEST)), {n: z.read(n) for n in z.namelist() if n != MANIFEST}


def _zip(manifest_text, files) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr(MANIFEST, manifest_text)
        for n, b in files.items():
            z.writestr(n, b)
    return out.getvalue()


_INTERESTING = [None, True, False, 0, -1, 1, 2, 0.5, 1.5, -0.5, 1e308, -1e308, float("nan"), float("inf"),
                2 ** 63, 10 ** 30, "", "x", "fp32", "detector.tflite", "../x", [], [1], [None], ["a", 1],
                {}, {"a": 1}, {"shape": "x"}, [[[[]]]]]


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _paths(v, prefix + (i,))


def _deep(depth):
    return "[" * depth + "1" + "]" * depth


def mutate_bytes(rng, data: bytes) -> bytes:
    b = bytearray(data)
    op = rng.randrange(6)
    i = rng.randrange(len(b))
    if op == 0:
        b[i] ^= 1 << rng.randrange(8)
    elif op == 1:
        del b[i]
    elif op == 2:
        b.insert(i, rng.randrange(256))
    elif op == 3:
        b[i] = rng.choice((0, 0xFF, 0x7F, 0x80))
    elif op == 4:
        del b[i:i + rng.randrange(1, 64)]
    else:
        b = b[:i]
    return bytes(b)


def mutate_text(rng, text: str) -> str:
    b = bytearray(text.encode("utf-8"))
    for _ in range(rng.randrange(1, 4)):
        if not b:
            break
        i = rng.randrange(len(b))
        op = rng.randrange(5)
        if op == 0:
            del b[i]
        elif op == 1:
            b.insert(i, rng.choice(b'{}[]",:0123456789-.eE ntfaNI\\\x00\xff'))
        elif op == 2:
            b[i] = rng.randrange(256)
        elif op == 3:
            # swap a literal for another one
            for lit in (b"true", b"false", b"null", b"0.5", b"1", b'"x"', b"NaN", b"Infinity", b"-1"):
                if b[i:i + len(lit)] == lit:
                    b[i:i + len(lit)] = rng.choice((b"null", b"NaN", b"-Infinity", b"[]", b"{}", b'"1"', b"1e999"))
                    break
        else:
            b[i:i] = _deep(rng.choice((10, 100, 5000))).encode()
    return b.decode("utf-8", errors="replace") if rng.random() < 0.5 else b.decode("latin-1")


def mutate_structure(rng, manifest: dict) -> str:
    m = copy.deepcopy(manifest)
    paths = [p for p in _paths(m) if p]
    for _ in range(rng.randrange(1, 3)):
        path = rng.choice(paths)
        parent = m
        try:
            for k in path[:-1]:
                parent = parent[k]
            key = path[-1]
            op = rng.randrange(4)
            if op == 0 and isinstance(parent, dict):
                parent.pop(key, None)
            elif op == 1:
                parent[key] = copy.deepcopy(rng.choice(_INTERESTING))
            elif op == 2:
                parent[key] = "__DEEP__"
            else:
                parent[key] = [parent[key]] if rng.random() < 0.5 else {"x": parent[key]}
        except (KeyError, IndexError, TypeError):
            continue
    text = json.dumps(m)  # NaN / Infinity as Python writes them
    return text.replace('"__DEEP__"', _deep(rng.choice((50, 2000, 100000))))


def fuzz(bundle_bytes: bytes, *, n: int, seed: int = 0, seconds: float | None = None,
         use_recognizer: bool = True):
    """Run up to ``n`` mutations (or until ``seconds`` pass). Returns
    (Counter of outcomes by exception type, {type: first example message})."""
    from handsdk.bundle import load_bundle

    import numpy as np

    rng = random.Random(seed)
    frame = np.full((48, 64, 3), 40, np.uint8)
    frame[10:40, 20:28] = (0, 0, 255)  # a red bar: the tiny detector sees a hand
    frame[20:24, 22:26] = (0, 255, 0)
    manifest, files = _entries(bundle_bytes)
    text = json.dumps(manifest, indent=2)
    counts, examples = collections.Counter(), {}
    t0 = time.monotonic()
    for i in range(n):
        if seconds is not None and time.monotonic() - t0 > seconds:
            break
        kind = i % 3
        if kind == 0:
            data = mutate_bytes(rng, bundle_bytes)
        elif kind == 1:
            data = _zip(mutate_text(rng, text), files)
        else:
            data = _zip(mutate_structure(rng, manifest), files)
        try:
            b = load_bundle(data)
            json.dumps(b.summary(), allow_nan=False)
            if use_recognizer:
                from handsdk import GestureRecognizer

                with GestureRecognizer(bundle=b) as rec:  # a bundle that loads must also run
                    json.dumps(rec.recognize(frame).to_dict(), allow_nan=False)
            counts["ok"] += 1
        except Exception as e:  # noqa: BLE001 -- counting every outcome is the point
            name = type(e).__name__
            counts[name] += 1
            examples.setdefault(name, f"{e!s}"[:300])
    return counts, examples


@pytest.mark.slow
def test_fuzzed_bundles_only_ever_raise_bundle_error(bundle_bytes):
    counts, examples = fuzz(bundle_bytes, n=3000, seed=15, seconds=5.0)
    others = {k: v for k, v in counts.items() if k not in ("ok", "BundleError")}
    assert not others, f"exceptions other than BundleError: {others}; examples: {examples}"
    assert counts["BundleError"] > 50  # the fuzzer did reach the loader's checks
    assert sum(counts.values()) >= 150


@pytest.mark.parametrize("kind", ["bytes", "text", "structure"])
def test_each_mutation_kind_is_reached(bundle_bytes, kind):
    rng = random.Random(1)
    manifest, files = _entries(bundle_bytes)
    data = {"bytes": lambda: mutate_bytes(rng, bundle_bytes),
            "text": lambda: _zip(mutate_text(rng, json.dumps(manifest)), files),
            "structure": lambda: _zip(mutate_structure(rng, manifest), files)}[kind]()
    assert data != bundle_bytes


if __name__ == "__main__":  # a longer campaign, with counts
    import argparse

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-recognizer", action="store_true")
    args = ap.parse_args()
    from handsdk.bundle import GestureSet, build_bundle
    from handsdk.convert.tflite import keras_to_tflite
    import conftest as c

    data = build_bundle(
        detector=keras_to_tflite(c.tiny_detector()), landmarker=keras_to_tflite(c.tiny_landmarker()),
        gestures={"commands": GestureSet(keras_to_tflite(c.tiny_gesture(3, seed=1)), ("none", "open_palm", "fist"))},
        detector_decoding={"threshold": 0.5, "min_mass": 3.0, "min_size_frac": 0.05, "pad": 0.1},
        landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4}, provenance={"note": "fuzz"}, name="fuzz")
    t = time.monotonic()
    counts, examples = fuzz(data, n=args.n, seed=args.seed, use_recognizer=not args.no_recognizer)
    print(f"{sum(counts.values())} mutations in {time.monotonic() - t:.1f} s")
    for k, v in counts.most_common():
        print(f"  {k:24s} {v:6d}  {examples.get(k, '')[:150]!r}")
