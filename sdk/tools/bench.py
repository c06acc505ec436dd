"""handsdk side by side with Google MediaPipe's hand landmarker, in one run.

``handsdk bench`` (see :func:`run_bench`) runs a bundle and MediaPipe on the
same frames and reports, for both:

* hands found (detection rate) per real set;
* keypoint accuracy against human annotations (``hand_keypoints_gt``) and the
  SDK's agreement with MediaPipe's pseudo-labels on the other sets;
* gesture / letter accuracy: the SDK end to end next to the bundle's
  GestureNet fed with MediaPipe's keypoints (the pose model's share of errors);
* latency per frame (detection frames: IMAGE mode; tracking frames: VIDEO
  mode) at several frame sizes, as the ratio SDK / MediaPipe.

MediaPipe lives in its own virtual environment (it pulls opencv-contrib-python
and pins absl-py, which break the project's environment). It is created on
demand and driven through ``handsdk/train/mediapipe/hand_worker.py`` (a standalone script) with a JSON job;
frames travel as an ``.npz`` so that both systems see the same pixels. When
MediaPipe cannot be installed or run, the reason is reported and the SDK
columns are still filled.

Everything that turns results into numbers and tables (:func:`build_report`,
:func:`format_text`, :func:`format_markdown`) is pure numpy, so it can be
tested on fake MediaPipe results.

This module runs the whole benchmark (:func:`run_bench`); its parts:

* :mod:`handsdk.train.mediapipe.env` - MediaPipe's models, virtual
  environment and worker processes;
* :mod:`handsdk.tools.bench_samples` - which images from which sets, and the
  latency frames;
* :mod:`handsdk.tools.bench_systems` - running the SDK and MediaPipe;
* :mod:`handsdk.tools.bench_metrics` - scene, keypoint, gesture and latency
  numbers, targets (:func:`build_report`);
* :mod:`handsdk.tools.bench_report` - tables, markdown / JSON, worst-frames PNG;
* :mod:`handsdk.tools.bench_presence` - presence on MediaPipe's hands vs faces.
"""
from __future__ import annotations

import os
import platform
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from handsdk.train.mediapipe.env import (DEFAULT_VENV, MediaPipeUnavailable, ensure_mediapipe, mediapipe_version,
                                         model_path, run_face_worker)

from .bench_metrics import build_report
from .bench_presence import face_keys, presence_rows
from .bench_report import worst_frames_png
from .bench_samples import DEFAULT_SETS, SIZES, latency_images, letterbox_43, sample_frames, select_samples
from .bench_systems import (gesture_classifiers, run_mediapipe_accuracy, run_mediapipe_latency, run_sdk_accuracy,
                            run_sdk_latency)

__all__ = ["machine_info", "run_bench"]


# ------------------------------------------------------------------ machine


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    flags = ""
    try:
        txt = Path("/proc/cpuinfo").read_text()
        flags = "avx512" if "avx512f" in txt else ("avx2" if "avx2" in txt else "")
    except OSError:
        pass
    try:
        load = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        load = None
    return {"cpu": cpu, "cores": os.cpu_count(), "usable_cores": usable, "simd": flags,
            "python": platform.python_version(), "platform": platform.platform(), "load_avg": load}


# ------------------------------------------------------------------ orchestration


def run_bench(bundle=None, *, sets=DEFAULT_SETS, data_root=None, limit: int | None = 100,
              mediapipe_venv=None, install: bool = True, use_mediapipe: bool = True, anchors=None,
              model: str = "full", threads: int | None = None, sizes=SIZES, latency_images_n: int = 10,
              warmup: int = 5, image_rounds: int = 5, clip_len: int = 6, repeats: int = 2, worker=None,
              worst_png=None, log: Callable[[str], None] = print) -> dict:
    """The whole benchmark; returns the report (see :func:`build_report`)."""
    from handsdk.stages import _bundle

    t_all = time.perf_counter()
    b = _bundle(bundle)
    threads = threads or min(machine_info()["usable_cores"], 4)
    report: dict = {"machine": machine_info(), "bundle": str(bundle) if bundle is not None else "default",
                    "bundle_name": b.manifest.get("name"), "threads": threads, "model": model}
    # MediaPipe environment first: fail early and clearly
    mp_py, mp_msg = None, ""
    if use_mediapipe:
        try:
            mpath = model_path(anchors, model)
            mp_py = ensure_mediapipe(mediapipe_venv, install=install, log=log)
            report["mediapipe"] = {"available": True, "version": mediapipe_version(mediapipe_venv or DEFAULT_VENV),
                                   "model": str(mpath), "python": str(mp_py)}
        except (MediaPipeUnavailable, FileNotFoundError, ValueError, OSError, subprocess.SubprocessError) as e:
            mp_msg = str(e)
            report["mediapipe"] = {"available": False, "message": mp_msg}
            log(f"MediaPipe unavailable: {mp_msg}\n-> continuing with the SDK columns only")
    else:
        report["mediapipe"] = {"available": False, "message": "skipped (--no-mediapipe)"}
    log("selecting images ...")
    chosen, skipped = select_samples(sets, data_root, limit, log=log)
    report["skipped"] = skipped
    frames, keys, gt_boxes = sample_frames(chosen)
    # classifiers for the label sets in the data
    classifiers = gesture_classifiers(b, chosen)
    report["gesture_sets"] = {k: v.gesture_set for k, v in classifiers.items()}
    report["bundle_gesture_sets"] = sorted(b.gesture_sets)
    # latency frames
    lat_imgs = latency_images(chosen, latency_images_n)
    if not lat_imgs and sizes:
        from handsdk.tools.profiling import synthetic_frames

        log("no real images with one hand: latency on synthetic frames")
        lat_imgs = synthetic_frames(latency_images_n, size=(480, 640))
    lat_frames = {f"{w}x{h}": [letterbox_43(im, (w, h)) for im in lat_imgs] for (w, h) in sizes}
    report["latency_setup"] = {"images": len(lat_imgs), "warmup": warmup, "image_rounds": image_rounds,
                               "repeats": repeats,
                               "clip_len": clip_len, "threads": threads, "mediapipe_num_hands": 1, "sdk_max_hands": 1}
    # SDK accuracy
    log(f"SDK on {len(frames)} images ...")
    t = time.perf_counter()
    sdk_res, sdk_on_box = run_sdk_accuracy(b, frames, threads=threads, gt_boxes=gt_boxes)
    report["timing_s"] = {"sdk_accuracy": round(time.perf_counter() - t, 1)}
    mp_res = mp_lat = None
    with tempfile.TemporaryDirectory(prefix="handsdk_bench_") as tmp:
        if mp_py is not None:
            try:
                npz = Path(tmp) / "frames.npz"
                allf = dict(frames)
                for size, arr in lat_frames.items():
                    for i, a in enumerate(arr):
                        allf[f"lat_{size}_{i:03d}"] = a
                np.savez(npz, **allf)
                log(f"MediaPipe on {len(frames)} images ...")
                t = time.perf_counter()
                r = run_mediapipe_accuracy(mp_py, mpath, npz, frames, tmp, worker=worker)
                mp_res = r["accuracy"]
                report["timing_s"]["mediapipe_accuracy"] = round(time.perf_counter() - t, 1)
                report["mediapipe"]["version"] = r.get("mediapipe_version", report["mediapipe"].get("version"))
            except MediaPipeUnavailable as e:
                report["mediapipe"] = {"available": False, "message": str(e)}
                log(f"MediaPipe failed: {e}\n-> continuing with the SDK columns only")
                mp_py = None
        fkeys = face_keys(keys)
        if mp_py is not None and fkeys:
            # presence: MediaPipe's hands vs the faces OpenCV's cascades find (they run in the
            # MediaPipe environment: the project's OpenCV has no cascade files)
            try:
                log("faces (OpenCV's Haar cascades) for the presence table ...")
                t = time.perf_counter()
                faces = run_face_worker(mp_py, {"frames": str(npz), "keys": fkeys}, tmp)
                report["presence"] = presence_rows(b, chosen, keys, faces, threads=threads)
                report["timing_s"]["presence"] = round(time.perf_counter() - t, 1)
            except MediaPipeUnavailable as e:
                log(f"presence table skipped: {e}")
                report["presence_error"] = str(e)
        # latency: per frame size, SDK and MediaPipe blocks back to back, ``repeats``
        # times in alternating order, timings pooled: a change of load on the
        # machine hits both alike
        sdk_lat, mp_lat = None, None
        if lat_imgs:
            sdk_lat, mp_lat = {}, ({} if mp_py is not None else None)
            report["timing_s"].update(sdk_latency=0.0, mediapipe_latency=0.0)
            report["load_avg_latency"] = {}

            def merge(into, new):
                for size_, d in new.items():
                    for k_, v in d.items():
                        if isinstance(v, dict):  # per-stage times: {stage: [ms, ...]}
                            for st_, ms_ in v.items():
                                into.setdefault(size_, {}).setdefault(k_, {}).setdefault(st_, []).extend(ms_)
                        else:
                            into.setdefault(size_, {}).setdefault(k_, []).extend(v)

            def sdk_block(size, arrs):
                t = time.perf_counter()
                merge(sdk_lat, run_sdk_latency(b, {size: arrs}, threads=threads, warmup=warmup,
                                               image_rounds=image_rounds, clip_len=clip_len))
                report["timing_s"]["sdk_latency"] += round(time.perf_counter() - t, 1)

            def mp_block(size, arrs):
                t = time.perf_counter()
                try:
                    merge(mp_lat, run_mediapipe_latency(mp_py, mpath, npz, size,
                                                        [f"lat_{size}_{i:03d}" for i in range(len(arrs))], tmp,
                                                        warmup=warmup, image_rounds=image_rounds,
                                                        clip_len=clip_len, worker=worker))
                except MediaPipeUnavailable as e:
                    log(f"MediaPipe latency failed: {e}")
                    report["mediapipe"]["latency_error"] = str(e)
                report["timing_s"]["mediapipe_latency"] += round(time.perf_counter() - t, 1)

            for rep_i in range(max(1, repeats)):
                for size, arrs in lat_frames.items():
                    try:
                        report["load_avg_latency"].setdefault(size, []).append(os.getloadavg()[0])
                    except OSError:
                        pass
                    log(f"latency {size} ({rep_i + 1}/{repeats}) ...")
                    blocks = [sdk_block] + ([mp_block] if mp_lat is not None else [])
                    for fn in (blocks if rep_i % 2 == 0 else blocks[::-1]):
                        fn(size, arrs)
    report.update(build_report(chosen, keys, sdk_res, mp_res, classifiers=classifiers, sdk_on_box=sdk_on_box,
                               sdk_latency=sdk_lat, mp_latency=mp_lat, model=model))
    report["raw_latency"] = {"sdk": sdk_lat, "mediapipe": mp_lat}
    if worst_png:
        p = worst_frames_png(chosen, keys, sdk_res, mp_res, worst_png)
        report["worst_frames_png"] = str(p) if p else None
        log(f"worst scene frames: {p}" if p else "no camera-scene set selected: no worst-frames PNG")
    try:
        report["load_avg_end"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    report["timing_s"]["total"] = round(time.perf_counter() - t_all, 1)
    return report
