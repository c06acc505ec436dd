"""Profiling a bundle on this machine with a device profile's settings:
per-stage and end-to-end latency (p50/p90, warm-up excluded), frames per
second, model sizes, peak memory and, given labelled data, accuracy.

Run per bundle in a subprocess (`profile_in_subprocess`) so that peak memory
is the bundle's own and one failing bundle never stops the others."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from .latency import latency_stats, tracking_clips, was_tracked


def _stats(values) -> dict:
    return latency_stats(values, ndigits=3)


def synthetic_frames(n: int, size=(480, 640), seed: int = 0) -> list[np.ndarray]:
    """Frames with hands from the synthetic renderer when it is installed
    (``handsdk.train.synth``, numpy + OpenCV only), else plain textured frames."""
    try:
        from handsdk.train import synth

        rng = np.random.default_rng(seed)
        cfg = synth.SceneConfig(size=tuple(size), max_hands=1, p_no_hand=0.0)
        return [synth.render_scene(rng, cfg).image for _ in range(n)]
    except Exception:
        rng = np.random.default_rng(seed)
        return [rng.integers(0, 255, (*size, 3), dtype=np.uint8) for _ in range(n)]


#: frames per tracking clip (one image held: the first frame finds the hand, the others track it)
TRACKING_CLIP = 10


def _bar(say, mode: str, i: int, total: int):
    if i in {max(1, round(total * k / 4)) for k in range(1, 5)}:
        say(f"{mode:5s} mode [{'#' * round(20 * i / total):<20}] {i}/{total} frames")


def _mode_stats(times: dict) -> dict:
    out = {k: _stats(v) for k, v in times.items()}
    p50 = out.get("total", {}).get("p50")
    out["fps"] = round(1000.0 / p50, 1) if p50 else None
    return out


def profile_bundle(bundle, *, device: str | None = None, frames: int = 100, warmup: int = 10,
                   threads: int | None = None, data: str | None = None, data_root=None,
                   eval_limit: int = 200, camera=None, progress=None) -> dict:
    """Profile one bundle. Frames are RGB; the recognizer runs in IMAGE mode
    (detection frames: the detector on every frame) and in VIDEO mode
    (tracking frames: :func:`~handsdk.tools.latency.tracking_clips`, the
    protocol of ``handsdk bench``, on the frames where IMAGE mode found the
    hand; ``tracking_frames["tracked_share"]`` says how many of them were
    tracked, the detector not run). ``progress(message)`` gets a progress bar
    per mode."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode, load_bundle

    say = progress or (lambda m: None)

    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    prof = {}
    if device:
        from handsdk.devices import load_device

        prof = load_device(device)
    threads = threads or int(prof.get("threads", 2))
    cam = camera or prof.get("camera", [640, 480])
    t0 = time.perf_counter()
    b = load_bundle(bundle)
    load_ms = (time.perf_counter() - t0) * 1000
    out = {"bundle": str(bundle), "device": device, "threads": threads, "camera": list(cam),
           "load_ms": round(load_ms, 1),
           "size_bytes": {r: len(b.files[e.file]) for r, e in b.models.items()},
           "quantization": {r: e.quantization for r, e in b.models.items()}}
    out["size_bytes"]["total"] = sum(out["size_bytes"].values())
    imgs = synthetic_frames(min(frames, 30), size=(int(cam[1]), int(cam[0])))
    # detection frames: IMAGE mode, the detector on every frame
    opts = GestureRecognizerOptions(bundle=b, running_mode=RunningMode.IMAGE, num_threads=threads,
                                    color_order="RGB", max_hands=1)
    times: dict[str, list] = {}
    found = []
    total = frames + warmup
    with GestureRecognizer(opts) as rec:
        for i in range(total):
            r = rec.recognize(imgs[i % len(imgs)])
            if i >= warmup:
                for k, v in r.timings_ms.items():
                    times.setdefault(k, []).append(v)
            if i < len(imgs):
                found.append(bool(r.hands))
            _bar(say, "image", i + 1, total)
    out["detection_frames"] = _mode_stats(times)
    # tracking frames: VIDEO mode on a tracked hand, as ``handsdk bench`` measures them (each image
    # with a hand held for a clip; its first frame finds the hand and is not a tracking frame)
    with_hand = [im for im, f in zip(imgs, found) if f] or imgs
    per_clip = TRACKING_CLIP - 1
    clips = [with_hand[i % len(with_hand)] for i in range(-(-frames // per_clip))]
    opts = GestureRecognizerOptions(bundle=b, running_mode=RunningMode.VIDEO, num_threads=threads,
                                    color_order="RGB", max_hands=1)
    times, tracked = {}, []
    with GestureRecognizer(opts) as rec:
        for j, r, _ in tracking_clips(rec, clips, clip_len=TRACKING_CLIP, warmup=warmup):
            if j == 0 or len(tracked) >= frames:
                continue
            for k, v in r.timings_ms.items():
                times.setdefault(k, []).append(v)
            tracked.append(was_tracked(r))
            _bar(say, "video", len(tracked), frames)
    out["tracking_frames"] = _mode_stats(times)
    out["tracking_frames"].update({"tracked": int(sum(tracked)), "frames": len(tracked),
                                   "tracked_share": round(float(np.mean(tracked)), 3) if tracked else None,
                                   "images_with_hand": sum(found), "images": len(found)})
    if data:
        from handsdk.train.evaluation import evaluate
        from handsdk.train.data.registry import load_dataset

        samples = load_dataset(data, root=data_root, split="valid" if data == "asl_letters" else None)[:eval_limit]
        say(f"accuracy on {len(samples)} images of {data} ...")
        opts = GestureRecognizerOptions(bundle=b, running_mode=RunningMode.IMAGE, num_threads=threads,
                                        color_order="RGB", max_hands=2)
        with GestureRecognizer(opts) as rec:
            sets = [s for s in rec.classifiers if any(x.label_set == s for x in samples)]
            out["accuracy"] = evaluate(rec, samples, gesture_set=sets[0] if sets else None)
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    out["rss_growth_mib"] = round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024, 1)
    return out


def profile_in_subprocess(bundle, timeout: float = 1800, progress=None, **kw) -> dict:
    """Profile in a fresh Python process: its peak memory is this bundle's,
    and a crash becomes a row that says why. ``progress(message)`` gets the
    child's progress lines as they come."""
    import tempfile
    import threading

    code = ("import json, sys; from handsdk.tools.profiling import profile_bundle; "
            "kw = json.loads(sys.argv[2]); "
            "say = lambda m: print('@@p ' + m, flush=True); "
            "print('@@' + json.dumps(profile_bundle(sys.argv[1], progress=say, **kw)), flush=True)")
    result: dict = {}
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([sys.executable, "-c", code, str(bundle), json.dumps(kw)], stdout=subprocess.PIPE,
                             stderr=err, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))

        def read():
            for line in p.stdout:
                if line.startswith("@@p "):
                    if progress is not None:
                        progress(line[4:].rstrip())
                elif line.startswith("@@"):
                    result.update(json.loads(line[2:]))

        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return {"bundle": str(bundle), "error": f"timed out after {timeout:.0f} s"}
        t.join(10)
        if result:
            return result
        err.seek(0)
        lines = err.read().decode("utf-8", "replace").strip().splitlines()
    msg = lines[-1] if lines else f"the profiling process exited with code {p.returncode} and no output"
    return {"bundle": str(bundle), "error": msg}


def format_table(rows: list[dict]) -> str:
    """One aligned row per bundle (or format); a failed row says FAILED and why.
    ``tracked``: how many of the tracking frames were tracked (no detector)."""
    def num(v, spec):
        return format(v, spec) if isinstance(v, (int, float)) and np.isfinite(v) else "-"

    def name_of(r):
        n = Path(r.get("bundle", "?")).name
        return f"{r['format']}: {n}" if r.get("format") else n

    w = max([len("bundle")] + [len(name_of(r)) for r in rows]) + 2
    cols = [("size KiB", 9), ("det p50", 9), ("det p90", 9), ("trk p50", 9), ("tracked", 9), ("fps det", 8),
            ("fps trk", 8), ("RSS MiB", 8)]
    head = f"{'bundle':<{w}}" + "".join(f"{c:>{n}}" for c, n in cols) + "  accuracy / error"
    lines = [head, "-" * len(head)]
    for r in rows:
        name = name_of(r)
        if "error" in r:
            lines.append(f"{name:<{w}}" + "".join(f"{'-':>{n}}" for _, n in cols) + f"  FAILED: {r['error']}")
            continue
        d, t = r["detection_frames"], r["tracking_frames"]
        acc = ""
        a = r.get("accuracy")
        if a:
            kp = a.get("keypoints_on_gt_box", {}).get("all", {})
            acc = (f"det rate {num(a.get('detection_rate'), '.2f')} AP {num(a.get('detection', {}).get('ap'), '.3f')} "
                   f"PCK@0.2 {num(kp.get('pck@0.2'), '.3f')}")
            if a.get("gesture", {}).get("samples"):
                acc += f" gesture acc {num(a['gesture'].get('accuracy'), '.3f')}"
        vals = [num(r["size_bytes"]["total"] / 1024, ".1f"), num(d["total"]["p50"], ".2f"),
                num(d["total"]["p90"], ".2f"), num(t["total"]["p50"], ".2f"),
                f"{t['tracked']}/{t['frames']}" if "tracked" in t else "-", num(d.get("fps"), ".1f"),
                num(t.get("fps"), ".1f"), num(r.get("peak_rss_mib"), ".0f")]
        lines.append(f"{name:<{w}}" + "".join(f"{v:>{n}}" for v, (_, n) in zip(vals, cols)) + f"  {acc}")
    return "\n".join(lines)
