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
demand and driven through ``handsdk/tools/mediapipe_worker.py`` (a standalone script) with a JSON job;
frames travel as an ``.npz`` so that both systems see the same pixels. When
MediaPipe cannot be installed or run, the reason is reported and the SDK
columns are still filled.

Everything that turns results into numbers and tables (:func:`build_report`,
:func:`format_text`, :func:`format_markdown`) is pure numpy, so it can be
tested on fake MediaPipe results.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

from .. import metrics as M
from ..keypoints import keypoints_box
from .latency import median_ms

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("mediapipe_worker.py")  # run as a script in the MediaPipe venv
DEFAULT_VENV = Path("~/.cache/handsdk/mediapipe-venv")
MODEL_FILES = {"full": "hand_landmarker_full.task", "lite": "hand_landmarker_alllite.task"}

#: real sets with hands, and the split the benchmark reads
#: camera scenes (a person in view) the benchmark scores for hands found on the
#: human boxes, false hands and keypoint agreement (validation parts only)
SCENE_SETS = ("webcam_finger_counts", "webcam_signs", "asl_signers_studio")
DEFAULT_SETS = ("asl_letters", "sign_language_digits", "asl_alphabet_subset", "asl_two_signers",
                "hand_keypoints_gt") + SCENE_SETS
SET_SPLITS = {"asl_letters": "valid", "sign_language_digits": "valid", "asl_alphabet_subset": None,
              "asl_two_signers": None, "hand_keypoints_gt": None, "webcam_finger_counts": "valid",
              "webcam_signs": "valid", "asl_signers_studio": None}
#: target for camera scenes: false hands per image at most
TARGET_FALSE_PER_IMAGE = 0.05
#: every image of these sets shows a hand (except the label in NO_HAND_LABELS)
ALWAYS_HAND_SETS = {"asl_letters", "sign_language_digits", "asl_alphabet_subset", "asl_two_signers",
                    "hand_keypoints_gt"}
NO_HAND_LABELS = {"nothing"}
SIZES = ((160, 120), (320, 240), (640, 480))
#: alternative names of a data label set among a bundle's gesture sets
GESTURE_ALIASES = {"asl_letters": ("asl_letters", "letters", "asl", "fingerspelling", "spelling"),
                   "asl_digits": ("asl_digits", "digits", "numbers", "number_signs"),
                   "commands": ("commands", "command", "gestures")}
#: MediaPipe's own measurements (../shared/anchors/mediapipe/README.md), for sanity
MP_README_MS = {("full", "detection"): 30.0, ("full", "tracking"): 13.5,
                ("lite", "detection"): 20.0, ("lite", "tracking"): 7.0}

# targets (directions to aim for, shown as pass/fail, never asserted)
TARGET_LATENCY_RATIO = 0.5
TARGET_PCK_GAP = 0.05
TARGET_GESTURE_GAP = 0.05


class MediaPipeUnavailable(RuntimeError):
    """MediaPipe could not be installed or run; the message says why."""


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


# ------------------------------------------------------------------ paths


def anchors_dir(anchors=None) -> Path:
    """The folder holding MediaPipe's ``.task`` files: ``anchors`` (the
    mediapipe folder or its parent), else ``$HANDSDK_ANCHORS``, else
    ``../shared/anchors/mediapipe`` relative to the current directory or the
    repository."""
    cands = []
    if anchors is not None:
        cands.append(Path(anchors).expanduser())
    elif os.environ.get("HANDSDK_ANCHORS"):
        cands.append(Path(os.environ["HANDSDK_ANCHORS"]).expanduser())
    else:
        cands += [Path.cwd() / ".." / "shared" / "anchors", REPO / ".." / "shared" / "anchors"]
    for c in cands:
        for d in (c, c / "mediapipe"):
            if d.is_dir() and any((d / f).is_file() for f in MODEL_FILES.values()):
                return d.resolve()
    raise FileNotFoundError("MediaPipe models not found (tried " + ", ".join(str(c) for c in cands) +
                            "); pass --anchors or set HANDSDK_ANCHORS to the folder with hand_landmarker_full.task")


def model_path(anchors=None, model: str = "full") -> Path:
    if model not in MODEL_FILES:
        raise ValueError(f"model must be one of {sorted(MODEL_FILES)}, got {model!r}")
    p = anchors_dir(anchors) / MODEL_FILES[model]
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    return p


# ------------------------------------------------------------------ MediaPipe venv


def venv_python(venv) -> Path:
    v = Path(venv).expanduser()
    return v / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def mediapipe_version(venv) -> str | None:
    py = venv_python(venv)
    if not py.is_file():
        return None
    r = subprocess.run([str(py), "-c", "import mediapipe, numpy; print(mediapipe.__version__)"],
                       capture_output=True, text=True, timeout=300)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_mediapipe(venv=None, *, install: bool = True, log: Callable[[str], None] = print,
                     timeout: int = 1800) -> Path:
    """The MediaPipe venv's python, creating the venv and installing mediapipe
    when needed (``install``). Raises :class:`MediaPipeUnavailable` saying why."""
    venv = Path(venv or DEFAULT_VENV).expanduser()
    if mediapipe_version(venv):
        return venv_python(venv)
    if not install:
        raise MediaPipeUnavailable(
            f"no working MediaPipe environment at {venv} (and installing was not allowed); create one with: "
            f"python3 -m venv {venv} && {venv_python(venv)} -m pip install mediapipe")
    log(f"creating the MediaPipe environment in {venv} (pip install mediapipe; takes a few minutes) ...")
    logfile = venv.parent / (venv.name + "-install.log")
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        if not venv_python(venv).is_file():
            r = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True,
                               timeout=300)
            if r.returncode != 0:
                raise MediaPipeUnavailable(f"could not create a virtual environment at {venv}: "
                                           f"{(r.stderr or r.stdout).strip()[-800:]}")
        from ..progress import PIP_LINES, run_logged

        rc = run_logged([str(venv_python(venv)), "-m", "pip", "install", "mediapipe"], logfile, show=PIP_LINES,
                        on_line=lambda ln: log(f"  pip: {ln}"), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MediaPipeUnavailable(f"pip install mediapipe did not finish in {timeout} s (log: {logfile})") from None
    except OSError as e:
        raise MediaPipeUnavailable(f"could not set up {venv}: {e}") from e
    if rc != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-8:]
        raise MediaPipeUnavailable("pip install mediapipe failed (log: " + str(logfile) + "):\n  " +
                                   "\n  ".join(tail))
    if not mediapipe_version(venv):
        raise MediaPipeUnavailable(f"mediapipe was installed in {venv} but does not import (log: {logfile})")
    return venv_python(venv)


def run_worker(python, job: dict, workdir, *, worker=None, timeout: int = 1800) -> dict:
    """Run the MediaPipe worker on ``job`` (its "out" is set here)."""
    workdir = Path(workdir)
    out = workdir / f"mp_result_{time.monotonic_ns()}.json"
    job = dict(job, out=str(out))
    jp = workdir / f"mp_job_{time.monotonic_ns()}.json"
    jp.write_text(json.dumps(job))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("GLOG_minloglevel", "2")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        r = subprocess.run([str(python), str(worker or WORKER), str(jp)], capture_output=True, text=True,
                           timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        raise MediaPipeUnavailable(f"the MediaPipe worker ran past {timeout} s") from None
    res = None
    if out.is_file():
        try:
            res = json.loads(out.read_text())
        except json.JSONDecodeError:
            res = None
    if res is None or "error" in res or r.returncode != 0:
        why = (res or {}).get("error") or (r.stderr or r.stdout).strip()[-1500:] or f"exit code {r.returncode}"
        raise MediaPipeUnavailable(f"the MediaPipe worker failed: {why}")
    return res


# ------------------------------------------------------------------ data


def spread(n: int, limit: int | None) -> list[int]:
    """``limit`` indices spread evenly over ``range(n)`` (all when limit is None
    or >= n): a deterministic choice that covers every class of a sorted set."""
    if limit is None or limit >= n:
        return list(range(n))
    if limit <= 0:
        return []
    return sorted(set(np.linspace(0, n - 1, limit).round().astype(int).tolist()))


def has_hand(set_name: str, sample) -> bool:
    """Whether the image shows a hand, from the set itself (not from MediaPipe's
    pseudo-labels, which miss some hands): every image of the benchmark's sets
    and of a user's gesture folders does, except those labelled ``nothing``."""
    if sample.label in NO_HAND_LABELS:
        return False
    if set_name in ALWAYS_HAND_SETS or sample.source not in SET_SPLITS:
        return True
    hb = sample.extras.get("human_boxes")
    return bool(len(sample.boxes) or len(sample.keypoints) or (hb is not None and len(hb)))


def pseudo_keypoints(sample) -> np.ndarray | None:
    """MediaPipe's pseudo-label keypoints of a sample (N, 21, 3), or None."""
    if "pseudo_keypoints" in sample.extras:
        return np.asarray(sample.extras["pseudo_keypoints"], np.float32).reshape(-1, 21, 3)
    if sample.keypoint_source == "mediapipe":
        return np.asarray(sample.keypoints, np.float32)
    if sample.extras.get("pseudo_labelled") is not None:
        return np.zeros((0, 21, 3), np.float32)
    return None


def select_samples(sets, root=None, limit: int | None = 100, log: Callable[[str], None] = print):
    """{set: [Sample with image]} and {set: reason skipped}. ``sets`` entries
    are dataset names, ``name:split`` or a folder of ``<class>/<images>``."""
    from handsdk.train.data.real import ensure_image, load_dataset

    chosen, skipped = {}, {}
    for name in sets:
        split = None
        base = name
        if ":" in name and not Path(name).exists():
            base, split = name.split(":", 1)
        elif name in SET_SPLITS:
            split = SET_SPLITS[name]
        try:
            ss = load_dataset(base, split, root, load_image=False)
        except (FileNotFoundError, KeyError, ValueError) as e:
            skipped[name] = str(e).strip("'\"")
            continue
        ss = [s for s in ss if s.path and s.extras.get("has_image", True)]
        ss = [ss[i] for i in spread(len(ss), limit)]
        for s in ss:
            ensure_image(s)
        if not ss:
            skipped[name] = "no images"
            continue
        chosen[name] = ss
        log(f"  {name}: {len(ss)} images")
    return chosen, skipped


def letterbox_43(rgb: np.ndarray, size) -> np.ndarray:
    """Pad an image to 4:3 (centred, black) and resize it to ``size`` (w, h)."""
    import cv2

    h, w = rgb.shape[:2]
    tw, th = size
    if w * th >= h * tw:
        W, H = w, int(round(w * th / tw))
    else:
        W, H = int(round(h * tw / th)), h
    canvas = np.zeros((H, W, 3), np.uint8)
    y0, x0 = (H - h) // 2, (W - w) // 2
    canvas[y0:y0 + h, x0:x0 + w] = rgb[..., :3]
    interp = cv2.INTER_AREA if W > tw else cv2.INTER_LINEAR
    return np.ascontiguousarray(cv2.resize(canvas, (tw, th), interpolation=interp))


def latency_images(chosen: dict, n: int = 10) -> list[np.ndarray]:
    """A fixed set of real images with a hand: first those with exactly one
    hand by MediaPipe's pseudo-labels (so that both systems can track it),
    asl_letters first, then the other sets in order; then any image with a hand."""
    pref = ("asl_letters", "asl_two_signers", "sign_language_digits", "asl_alphabet_subset")
    order = [s for s in pref if s in chosen] + [s for s in chosen if s not in pref]
    out, rest = [], []
    for name in order:
        for s in chosen[name]:
            if s.image is None or not has_hand(name, s):
                continue
            pk = pseudo_keypoints(s)
            if pk is not None and len(pk) == 1:
                out.append(s.image)
                if len(out) >= n:
                    return out
            else:
                rest.append(s.image)
    return (out + rest)[:n]


# ------------------------------------------------------------------ SDK side


def _gesture_map(bundle_sets: dict, label_set: str | None, data_labels=()) -> str | None:
    """The bundle gesture set that classifies ``label_set``: by name, by alias,
    else the set whose labels cover most of the data's labels (the label set's
    canonical labels and ``data_labels``; at least half of them)."""
    if not label_set or not bundle_sets:
        return None
    if label_set in bundle_sets:
        return label_set
    for alias in GESTURE_ALIASES.get(label_set, ()):
        if alias in bundle_sets:
            return alias
    want = set(data_labels)
    try:
        from handsdk.train.data.real import LABEL_SETS

        want |= set(LABEL_SETS.get(label_set, ()))
    except ImportError:  # pragma: no cover - train package absent
        pass
    best, cover = None, 0.0
    for name, labels in bundle_sets.items():
        c = len(want & set(labels)) / len(want) if want else 0.0
        if c > cover:
            best, cover = name, c
    return best if cover >= 0.5 else None


def sdk_hands(result) -> list[dict]:
    return [{"keypoints": np.asarray(h.keypoints, np.float32)[:, :3].tolist(), "handedness": h.handedness.name,
             "handedness_score": float(h.handedness.score),
             "score": float(h.presence if h.detection_score is None else h.detection_score),
             "gestures": {k: v[0].name for k, v in h.gestures.items() if v}} for h in result.hands]


def run_sdk_accuracy(bundle, frames: dict, *, threads: int = 2, max_hands: int = 2, gt_boxes: dict | None = None,
                     progress: Callable[[int], None] | None = None) -> tuple[dict, dict]:
    """The SDK end to end (IMAGE mode) on every frame -> ({key: hands},
    {key: [landmarker keypoints on each GT box]})."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode

    out, on_box = {}, {}
    opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.IMAGE, max_hands=max_hands,
                                    num_threads=threads, color_order="RGB")
    with GestureRecognizer(opts) as rec:
        for i, (key, img) in enumerate(frames.items()):
            out[key] = sdk_hands(rec.recognize(img))
            for box in (gt_boxes or {}).get(key, ()):
                lm = rec.landmarker.landmark_rgb(img, np.asarray(box, np.float32))
                on_box.setdefault(key, []).append(lm.keypoints[:, :2].tolist())
            if progress:
                progress(i + 1)
    return out, on_box


def run_sdk_latency(bundle, sizes: dict, *, threads: int = 2, warmup: int = 5, image_rounds: int = 3,
                    clip_len: int = 6) -> dict:
    """Same protocol as the MediaPipe worker (see its docstring): IMAGE mode
    every frame, VIDEO mode in clips of ``clip_len`` (first frame of a clip
    set apart). Times wrap ``recognize``; max_hands=1 so that a tracked hand
    stops the detector, as MediaPipe with num_hands=1."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode

    res_all = {}
    clip_len = max(2, int(clip_len))
    for size, arrays in sizes.items():
        res = {"image_ms": [], "video_ms": [], "video_first_ms": [], "image_hands": [], "video_tracked": []}
        opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.IMAGE, max_hands=1,
                                        num_threads=threads, color_order="RGB")
        with GestureRecognizer(opts) as rec:
            seq = [arrays[i % len(arrays)] for i in range(warmup + image_rounds * len(arrays))]
            for i, a in enumerate(seq):
                t = time.perf_counter()
                r = rec.recognize(a)
                dt = (time.perf_counter() - t) * 1000
                if i >= warmup:
                    res["image_ms"].append(dt)
                    res["image_hands"].append(len(r.hands))
        opts = GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.VIDEO, max_hands=1,
                                        num_threads=threads, color_order="RGB")
        with GestureRecognizer(opts) as rec:
            ts = 0
            for _ in range(warmup):
                ts += 33
                rec.recognize(arrays[0], ts)
            for a in arrays:
                for j in range(clip_len):
                    ts += 33
                    t = time.perf_counter()
                    r = rec.recognize(a, ts)
                    dt = (time.perf_counter() - t) * 1000
                    if j == 0:
                        res["video_first_ms"].append(dt)
                    else:
                        res["video_ms"].append(dt)
                        res["video_tracked"].append(bool(r.hands) and r.timings_ms.get("detect", 0.0) == 0.0)
        res_all[size] = res
    return res_all


# ------------------------------------------------------------------ report


def _largest(hands: list[dict]) -> dict | None:
    if not hands:
        return None

    def area(h):
        b = keypoints_box(np.asarray(h["keypoints"], np.float32))
        return float((b[2] - b[0]) * (b[3] - b[1]))

    return max(hands, key=area)


def match_hands(gt: np.ndarray, hands: list[dict], iou_min: float = 0.1) -> list[np.ndarray | None]:
    """For each GT hand (21, 3 with visibility), the keypoints (21, 2) of the
    predicted hand whose keypoint box overlaps its visible-keypoint box most
    (IoU > ``iou_min``), else None. Same rule as ``handsdk.evaluate``."""
    out = []
    pk = [np.asarray(h["keypoints"], np.float32)[:, :2] for h in hands]
    pb = np.array([keypoints_box(k) for k in pk], np.float32).reshape(-1, 4)
    for g in gt:
        vis = g[:, 2] > 0
        if not vis.any() or not len(pk):
            out.append(None)
            continue
        ious = M.box_iou(keypoints_box(g[:, :2], vis)[None], pb)[0]
        k = int(np.argmax(ious))
        out.append(pk[k] if ious[k] > iou_min else None)
    return out


LOCALISED_IOU = 0.3


def human_boxes(sample) -> np.ndarray | None:
    """Hand boxes drawn by people (YOLO boxes, or the tight boxes of human
    keypoints), or None when the set has none (boxes made from MediaPipe's
    pseudo-labels do not count)."""
    if sample.extras.get("human_boxes") is not None:  # the scene sets
        return np.asarray(sample.extras["human_boxes"], np.float32).reshape(-1, 4)
    if "box_classes" in sample.extras and len(sample.boxes):
        return np.asarray(sample.boxes, np.float32)
    if sample.keypoint_source == "human" and len(sample.keypoints):
        return np.array([keypoints_box(g[:, :2], g[:, 2] > 0) for g in sample.keypoints if (g[:, 2] > 0).any()],
                        np.float32).reshape(-1, 4)
    return None


def localised(boxes: np.ndarray, hands: list[dict], iou_min: float = LOCALISED_IOU) -> bool:
    """True when some reported hand's keypoint box overlaps a human box with
    IoU >= ``iou_min`` (0.3: a correct tight keypoint box against a looser
    YOLO box has IoU ~0.6, 10th percentile ~0.5, on asl_letters)."""
    if not hands or not len(boxes):
        return False
    pb = np.array([keypoints_box(np.asarray(h["keypoints"], np.float32)) for h in hands], np.float32)
    return bool((M.box_iou(boxes, pb) >= iou_min).any())


def _kp(pred: list, gt: list) -> dict:
    if not pred:
        return {"hands": 0, "pck@0.1": None, "pck@0.2": None, "mean_error_px": None}
    km = M.keypoint_metrics(np.array(pred), np.array(gt), thresholds=(0.1, 0.2))
    return {"hands": len(pred), "pck@0.1": km["pck@0.1"], "pck@0.2": km["pck@0.2"],
            "mean_error_px": km["mean_error"]}


def _rate(found: list[bool]) -> float | None:
    return float(np.mean(found)) if found else None


def _med(v) -> float | None:
    return median_ms(v) if v else None


def build_report(samples: dict, keys: dict, sdk: dict, mp: dict | None, *, classifiers: dict | None = None,
                 sdk_on_box: dict | None = None, sdk_latency: dict | None = None, mp_latency: dict | None = None,
                 human_sets=("hand_keypoints_gt",), model: str = "full") -> dict:
    """Turn per-frame predictions into the benchmark's numbers.

    samples: {set: [Sample]}; keys: {set: [frame key per sample]}; sdk / mp:
    {key: [hand dict with "keypoints" (21, 2|3) px, "handedness", ...]} (mp
    None: MediaPipe unavailable); classifiers: {data label set:
    GestureClassifier} (run on MediaPipe's keypoints); sdk_on_box: {key: [kp
    on each GT box]}; latencies: {"WxH": {"image_ms", "video_ms", ...}}."""
    have_mp = mp is not None
    rep: dict = {"detection": [], "keypoints_human": None, "agreement": [], "gestures": [], "latency": []}
    # ---- hands found
    for name, ss in samples.items():
        ks = keys[name]
        f_sdk, f_mp, fp_sdk, fp_mp, l_sdk, l_mp = [], [], [], [], [], []
        for s, k in zip(ss, ks):
            hand = has_hand(name, s)
            (f_sdk if hand else fp_sdk).append(bool(sdk.get(k)))
            if have_mp:
                (f_mp if hand else fp_mp).append(bool(mp.get(k)))
            hb = human_boxes(s)
            if hand and hb is not None and len(hb):
                l_sdk.append(localised(hb, sdk.get(k, [])))
                if have_mp:
                    l_mp.append(localised(hb, mp.get(k, [])))
        row = {"set": name, "images_with_hand": len(f_sdk), "images_without_hand": len(fp_sdk),
               "sdk": _rate(f_sdk), "mediapipe": _rate(f_mp) if have_mp else None,
               "sdk_false_positive": _rate(fp_sdk), "mediapipe_false_positive": _rate(fp_mp) if have_mp else None,
               "images_with_human_box": len(l_sdk), "sdk_localised": _rate(l_sdk),
               "mediapipe_localised": _rate(l_mp) if have_mp else None}
        # the target compares localised rates where human boxes say where the hand is
        a, b = (("sdk_localised", "mediapipe_localised") if l_sdk else ("sdk", "mediapipe"))
        row["pass_on"] = "localised" if l_sdk else "found"
        row["pass"] = None if row[a] is None or row[b] is None else bool(row[a] >= row[b] - 1e-9)
        rep["detection"].append(row)
    # ---- camera scenes: hands found on the human boxes, false hands
    rep["scenes"] = scene_rows(samples, keys, sdk, mp)
    # ---- keypoints vs human annotations
    for name in human_sets:
        if name not in samples:
            continue
        P = {"sdk": ([], []), "mediapipe": ([], []), "sdk_on_gt_box": ([], [])}
        both = {"sdk": ([], []), "mediapipe": ([], [])}
        n_gt = 0
        for s, k in zip(samples[name], keys[name]):
            gts = [g for g in np.asarray(s.keypoints, np.float32) if (g[:, 2] > 0).any()]
            if not gts:
                continue
            gts = np.asarray(gts)
            n_gt += len(gts)
            ms = match_hands(gts, sdk.get(k, []))
            mm = match_hands(gts, mp.get(k, [])) if have_mp else [None] * len(gts)
            for j, g in enumerate(gts):
                if ms[j] is not None:
                    P["sdk"][0].append(ms[j]); P["sdk"][1].append(g)
                if mm[j] is not None:
                    P["mediapipe"][0].append(mm[j]); P["mediapipe"][1].append(g)
                if ms[j] is not None and mm[j] is not None:
                    both["sdk"][0].append(ms[j]); both["sdk"][1].append(g)
                    both["mediapipe"][0].append(mm[j]); both["mediapipe"][1].append(g)
            for j, kp in enumerate((sdk_on_box or {}).get(k, [])):
                if j < len(gts):
                    P["sdk_on_gt_box"][0].append(np.asarray(kp, np.float32)[:, :2]); P["sdk_on_gt_box"][1].append(gts[j])
        kh = {"set": name, "hands": n_gt,
              "sdk": _kp(*P["sdk"]), "mediapipe": _kp(*P["mediapipe"]) if have_mp else None,
              "sdk_on_gt_box": _kp(*P["sdk_on_gt_box"]) if sdk_on_box else None,
              "both_found": {"hands": len(both["sdk"][0]), "sdk": _kp(*both["sdk"]),
                             "mediapipe": _kp(*both["mediapipe"])} if have_mp else None}
        a, b = kh["sdk"]["pck@0.2"], (kh["mediapipe"] or {}).get("pck@0.2")
        kh["pass"] = None if a is None or b is None else bool(a >= b - TARGET_PCK_GAP)
        rep["keypoints_human"] = kh
        break
    # ---- agreement with the pseudo-labels
    for name, ss in samples.items():
        if name in human_sets:
            continue
        sp, sg, mp_p, mp_g = [], [], [], []
        n = 0
        for s, k in zip(ss, keys[name]):
            pk = pseudo_keypoints(s)
            if pk is None or not len(pk):
                continue
            n += len(pk)
            for j, m in enumerate(match_hands(pk, sdk.get(k, []))):
                if m is not None:
                    sp.append(m); sg.append(pk[j])
            if have_mp:
                for j, m in enumerate(match_hands(pk, mp.get(k, []))):
                    if m is not None:
                        mp_p.append(m); mp_g.append(pk[j])
        if n:
            rep["agreement"].append({"set": name, "pseudo_hands": n, "sdk": _kp(sp, sg),
                                     "mediapipe_live": _kp(mp_p, mp_g) if have_mp else None})
    # ---- gestures / letters
    for name, ss in samples.items():
        by_set: dict = {}
        for s, k in zip(ss, keys[name]):
            if s.label is None or s.label_set is None:
                continue
            clf = (classifiers or {}).get(s.label_set)
            if clf is None or s.label not in list(clf.labels):
                continue
            st = by_set.setdefault(s.label_set, {"gesture_set": clf.gesture_set, "n": 0, "sdk": 0, "mp": 0,
                                                 "sdk_no_hand": 0, "mp_no_hand": 0})
            st["n"] += 1
            h = _largest(sdk.get(k, []))
            if h is None:
                st["sdk_no_hand"] += 1
            elif h.get("gestures", {}).get(clf.gesture_set) == s.label:
                st["sdk"] += 1
            if have_mp:
                h = _largest(mp.get(k, []))
                if h is None:
                    st["mp_no_hand"] += 1
                else:
                    top = clf.classify(np.asarray(h["keypoints"], np.float32), h.get("handedness"))
                    st["mp"] += int(top[0].name == s.label)
        for lset, st in by_set.items():
            row = {"set": name, "label_set": lset, "gesture_set": st["gesture_set"], "samples": st["n"],
                   "sdk_end_to_end": st["sdk"] / st["n"], "sdk_no_hand": st["sdk_no_hand"],
                   "gesturenet_on_mediapipe": st["mp"] / st["n"] if have_mp else None,
                   "mediapipe_no_hand": st["mp_no_hand"] if have_mp else None}
            row["pass"] = (None if row["gesturenet_on_mediapipe"] is None else
                           bool(row["sdk_end_to_end"] >= row["gesturenet_on_mediapipe"] - TARGET_GESTURE_GAP))
            rep["gestures"].append(row)
    # ---- latency
    for size in (sdk_latency or mp_latency or {}):
        for mode, key in (("detection", "image_ms"), ("tracking", "video_ms")):
            s_ = (sdk_latency or {}).get(size, {})
            m_ = (mp_latency or {}).get(size, {})
            a, b = _med(s_.get(key)), _med(m_.get(key))
            row = {"size": size, "mode": mode, "sdk_ms": a, "mediapipe_ms": b,
                   "ratio": (a / b) if a is not None and b else None, "frames": len(s_.get(key) or [])}
            if mode == "tracking" and s_.get("video_tracked"):
                row["sdk_tracked_fraction"] = float(np.mean(s_["video_tracked"]))
            if mode == "detection":
                if s_.get("image_hands"):
                    row["sdk_hand_fraction"] = float(np.mean(np.asarray(s_["image_hands"]) > 0))
                if m_.get("image_hands"):
                    row["mediapipe_hand_fraction"] = float(np.mean(np.asarray(m_["image_hands"]) > 0))
            row["pass"] = None if row["ratio"] is None else bool(row["ratio"] <= TARGET_LATENCY_RATIO)
            why = _not_comparable(row)
            if why and row["pass"] is not None:
                row["pass_raw"], row["pass"], row["not_comparable"] = row["pass"], None, why
            rep["latency"].append(row)
    rep["targets"] = summarize_targets(rep)
    rep["sanity"] = sanity_notes(rep, model)
    return rep


def _boxes_of(hands: list[dict]) -> np.ndarray:
    return np.array([keypoints_box(np.asarray(h["keypoints"], np.float32)[:, :2]) for h in hands],
                    np.float32).reshape(-1, 4)


def scene_frame_counts(sample, hands: list[dict]) -> dict:
    """:func:`handsdk.metrics.scene_counts` of one system's hands on one frame
    (reference hands: the human boxes and MediaPipe's pseudo-labels)."""
    pk = pseudo_keypoints(sample)
    refs = _boxes_of([{"keypoints": k} for k in pk]) if pk is not None and len(pk) else None
    return M.scene_counts(_boxes_of(hands), human_boxes(sample), refs)


def scene_rows(samples: dict, keys: dict, sdk: dict, mp: dict | None) -> list[dict]:
    """Per camera-scene set (sets whose samples carry ``human_boxes``, even
    None): hands found on the human box, false hands per image and the share
    of images with one, for the SDK and live MediaPipe; keypoint agreement
    with the pseudo-labels on the hands both systems found."""
    rows = []
    for name, ss in samples.items():
        if not ss or "human_boxes" not in ss[0].extras:
            continue
        per = {"sdk": [], "mediapipe": []}
        both_s, both_m, both_g = [], [], []
        for s, k in zip(ss, keys[name]):
            per["sdk"].append(scene_frame_counts(s, sdk.get(k, [])))
            if mp is not None:
                per["mediapipe"].append(scene_frame_counts(s, mp.get(k, [])))
            pk = pseudo_keypoints(s)
            if pk is None or not len(pk):
                continue
            ms = match_hands(pk, sdk.get(k, []))
            mm = match_hands(pk, mp.get(k, [])) if mp is not None else [None] * len(pk)
            for j in range(len(pk)):
                if ms[j] is not None and (mp is None or mm[j] is not None):
                    both_s.append(ms[j]); both_g.append(pk[j])
                    if mm[j] is not None:
                        both_m.append(mm[j])
        row = {"set": name, "images": len(ss), "sdk": M.scene_summary(per["sdk"]),
               "mediapipe": M.scene_summary(per["mediapipe"]) if mp is not None else None,
               "sdk_keypoints": _kp(both_s, both_g),
               "mediapipe_keypoints": _kp(both_m, both_g) if mp is not None else None}
        sf, mf = row["sdk"]["found_rate"], (row["mediapipe"] or {}).get("found_rate")
        row["pass_found"] = None if sf is None or mf is None else bool(sf >= mf - 1e-9)
        row["pass_false"] = bool(row["sdk"]["false_per_image"] <= TARGET_FALSE_PER_IMAGE)
        rows.append(row)
    return rows


def worst_frames_png(samples: dict, keys: dict, sdk: dict, mp: dict | None, path, *, n: int = 12,
                     tile: int = 240) -> Path | None:
    """A PNG grid of the scene frames where the SDK did worst (most false
    hands, then missed human boxes, then worst keypoint agreement), each
    shown twice: SDK (left) and MediaPipe (right), hands drawn, human boxes in
    white, false hands in red."""
    import cv2

    from ..draw import draw_keypoints

    cand = []
    for name, ss in samples.items():
        if not ss or "human_boxes" not in ss[0].extras:
            continue
        for s, k in zip(ss, keys[name]):
            c = scene_frame_counts(s, sdk.get(k, []))
            pk = pseudo_keypoints(s)
            err = 0.0
            if pk is not None and len(pk):
                for j, m in enumerate(match_hands(pk, sdk.get(k, []))):
                    if m is not None:
                        err = max(err, 1.0 - M.pck(np.asarray(m)[None], pk[j][None], 0.2))
            cand.append((c["false"], c["humans"] - c["found"], err, name, s, k))
    if not cand:
        return None
    cand.sort(key=lambda t: (-t[0], -t[1], -t[2]))
    tiles = []
    for nf, miss, err, name, s, k in cand[:n]:
        pair = []
        for hands, label in ((sdk.get(k, []), "SDK"), ((mp or {}).get(k, []), "MediaPipe" if mp is not None else "-")):
            img = cv2.cvtColor(np.ascontiguousarray(s.image), cv2.COLOR_RGB2BGR)
            h, w = img.shape[:2]
            f = tile / max(h, w)
            img = cv2.resize(img, (int(round(w * f)), int(round(h * f))))
            canvas = np.zeros((tile, tile, 3), np.uint8)
            canvas[:img.shape[0], :img.shape[1]] = img
            hb = human_boxes(s)
            for b in (hb if hb is not None else []):
                cv2.rectangle(canvas, (int(b[0] * f), int(b[1] * f)), (int(b[2] * f), int(b[3] * f)), (255, 255, 255), 1)
            for hnd in hands:
                kp = np.asarray(hnd["keypoints"], np.float32)[:, :2] * f
                one = scene_frame_counts(s, [hnd])
                draw_keypoints(canvas, kp, thickness=1, radius=2)
                if one["false"]:
                    b = keypoints_box(kp)
                    cv2.rectangle(canvas, (int(b[0]), int(b[1])), (int(b[2]), int(b[3])), (0, 0, 255), 2)
            cv2.putText(canvas, f"{label} {name}"[:34], (3, tile - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                        (0, 255, 255), 1, cv2.LINE_AA)
            pair.append(canvas)
        tiles.append(np.hstack(pair))
    cols = 2
    while len(tiles) % cols:
        tiles.append(np.zeros_like(tiles[0]))
    grid = np.vstack([np.hstack(tiles[i:i + cols]) for i in range(0, len(tiles), cols)])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), grid):
        raise OSError(f"could not write {path}")
    return path


def _not_comparable(row: dict) -> str | None:
    """Why a latency row's ratio does not compare like with like (one system
    found or tracked the hand far less often, so it did less work)."""
    if row["mode"] == "detection" and "sdk_hand_fraction" in row and "mediapipe_hand_fraction" in row:
        if row["sdk_hand_fraction"] < row["mediapipe_hand_fraction"] - 0.2:
            return "the SDK found a hand in far fewer frames than MediaPipe (less work)"
        if row["mediapipe_hand_fraction"] < row["sdk_hand_fraction"] - 0.2:
            return "MediaPipe found a hand in far fewer frames than the SDK (less work)"
    if row["mode"] == "tracking" and row.get("sdk_tracked_fraction") is not None and row["mediapipe_ms"]:
        if row["sdk_tracked_fraction"] < 0.5:
            return "the SDK did not track the hand in most frames"
    return None


def summarize_targets(rep: dict) -> list[dict]:
    out = []

    def add(name, rows):
        vals = [r["pass"] for r in rows if r.get("pass") is not None]
        nc = sum(1 for r in rows if r.get("not_comparable"))
        out.append({"target": name, "pass": (all(vals) if vals else None), "checked": len(vals),
                    "passed": int(sum(vals)), "not_comparable": nc})

    add(f"latency <= {TARGET_LATENCY_RATIO:g}x MediaPipe (every size and mode)", rep["latency"])
    add("detection rate >= MediaPipe's (every set)", rep["detection"])
    scenes = rep.get("scenes") or []
    add("camera scenes: hands found on the human box >= MediaPipe's",
        [{"pass": r["pass_found"]} for r in scenes])
    add(f"camera scenes: false hands <= {TARGET_FALSE_PER_IMAGE:g} per image", [{"pass": r["pass_false"]} for r in scenes])
    add(f"PCK@0.2 on human keypoints within {TARGET_PCK_GAP * 100:g} points of MediaPipe",
        [rep["keypoints_human"]] if rep["keypoints_human"] else [])
    add(f"letters / commands end to end within {TARGET_GESTURE_GAP * 100:g} points of GestureNet on "
        "MediaPipe keypoints", rep["gestures"])
    return out


def sanity_notes(rep: dict, model: str = "full") -> list[str]:
    """Compare MediaPipe's measured latency with its README (same class of
    machine), and the live MediaPipe with its own pseudo-labels."""
    notes = []
    for mode in ("detection", "tracking"):
        ref = MP_README_MS.get((model, mode))
        vals = [r["mediapipe_ms"] for r in rep["latency"] if r["mode"] == mode and r["mediapipe_ms"]]
        if ref and vals:
            med = median_ms(vals)
            flag = "" if 0.5 * ref <= med <= 2.0 * ref else "  <-- far from the reference: machine busy or different?"
            notes.append(f"MediaPipe {model} {mode} frames: median {med:.1f} ms over sizes "
                         f"(its README: about {ref:g} ms on a 2-core Xeon){flag}")
    for a in rep["agreement"]:
        m = a.get("mediapipe_live")
        if m and m.get("pck@0.1") is not None:
            notes.append(f"live MediaPipe vs its pseudo-labels on {a['set']}: {m['hands']}/{a['pseudo_hands']} "
                         f"hands, PCK@0.1 {m['pck@0.1']:.3f} (should be ~1: same model)")
    return notes


# ------------------------------------------------------------------ tables


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.1f}%"


def _ms(v) -> str:
    return "-" if v is None else f"{v:.1f}"


def _pf(v) -> str:
    return "n/a" if v is None else ("PASS" if v else "FAIL")


def _diff(a, b) -> str:
    return "-" if a is None or b is None else f"{100 * (a - b):+.1f}"


def report_sections(report: dict) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """(title, headers, rows, notes) per table; rendered as text or markdown."""
    secs = []
    mp_ok = (report.get("mediapipe") or {}).get("available", False)
    rows = []
    for r in report["detection"]:
        fp = ""
        if r["images_without_hand"]:
            fp = f"{_pct(r['sdk_false_positive'])} / {_pct(r['mediapipe_false_positive'])}"
        loc = "-"
        if r.get("images_with_human_box"):
            loc = (f"{_pct(r['sdk_localised'])} / {_pct(r['mediapipe_localised'])} "
                   f"({r['images_with_human_box']})")
        rows.append([r["set"], str(r["images_with_hand"]), _pct(r["sdk"]), _pct(r["mediapipe"]),
                     _diff(r["sdk"], r["mediapipe"]), loc, fp or "-",
                     _pf(r["pass"]) + (" (localised)" if r.get("pass_on") == "localised" and r["pass"] is not None
                                       else "")])
    secs.append(("Hands found (detection rate, images with a hand)",
                 ["set", "images", "SDK", "MediaPipe", "SDK-MP (pts)", "on the human box SDK / MP (images)",
                  "false pos. SDK / MP", "SDK >= MP"],
                 rows, ["found: the system reports at least one hand (the set says whether the image has a hand, "
                        "not MediaPipe's pseudo-labels); on the human box: a reported hand's keypoint box overlaps "
                        f"a human-drawn box (YOLO or human keypoints) with IoU >= {LOCALISED_IOU:g}; where human "
                        "boxes exist the target compares that rate"]))
    if report.get("scenes"):
        rows = []
        for r in report["scenes"]:
            sd, md = r["sdk"], r["mediapipe"] or {}
            fpi = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
            sk, mk = r["sdk_keypoints"], r["mediapipe_keypoints"] or {}
            rows.append([r["set"], str(r["images"]), str(sd["humans"]),
                         f"{_pct(sd['found_rate'])} / {_pct(md.get('found_rate'))}",
                         f"{fpi(sd['false_per_image'])} / {fpi(md.get('false_per_image'))}",
                         f"{_pct(sd['images_with_false'])} / {_pct(md.get('images_with_false'))}",
                         f"{sk['hands']}: {_pct(sk['pck@0.1'])} / {_pct(sk['pck@0.2'])}",
                         _pf(r["pass_found"]), _pf(r["pass_false"])])
        secs.append(("Camera scenes: a person in view",
                     ["set", "images", "human boxes", "found on human box SDK / MP", "false hands/img SDK / MP",
                      "images w/ false hand SDK / MP", "SDK vs pseudo-labels: hands, PCK@0.1 / @0.2",
                      "found >= MP", f"false <= {TARGET_FALSE_PER_IMAGE:g}"], rows,
                     [f"found: a reported hand's keypoint box overlaps the human box with IoU >= {M.FOUND_IOU:g} or "
                      f"lies >= {M.FOUND_INSIDE:g} inside it (one box may hold both hands of a sign); false hand: a "
                      f"reported hand overlapping no human box and no MediaPipe pseudo-labelled hand (IoU < "
                      f"{M.FALSE_IOU:g} and < {M.FALSE_INSIDE:g} inside); PCK on the pseudo-labelled hands that both "
                      "systems found (vs MediaPipe full's pseudo-labels, so MediaPipe's own column is ~100%)"]))
    kh = report.get("keypoints_human")
    if kh:
        rows = []
        s, m = kh["sdk"], kh["mediapipe"] or {}
        rows.append(["hands matched", f"{s['hands']}/{kh['hands']}",
                     f"{m.get('hands', 0)}/{kh['hands']}" if mp_ok else "-", ""])
        for key, lab in (("pck@0.1", "PCK@0.1"), ("pck@0.2", "PCK@0.2"), ("mean_error_px", "mean error (px)")):
            fmt = _ms if key == "mean_error_px" else _pct
            rows.append([lab, fmt(s[key]), fmt(m.get(key)), _pf(kh["pass"]) if key == "pck@0.2" else ""])
        bf = kh.get("both_found")
        if bf and bf["hands"]:
            rows.append([f"PCK@0.2 on the {bf['hands']} hands both found", _pct(bf["sdk"]["pck@0.2"]),
                         _pct(bf["mediapipe"]["pck@0.2"]), ""])
            rows.append(["mean error (px), hands both found", _ms(bf["sdk"]["mean_error_px"]),
                         _ms(bf["mediapipe"]["mean_error_px"]), ""])
        if kh.get("sdk_on_gt_box"):
            g = kh["sdk_on_gt_box"]
            rows.append(["SDK landmarker on the GT box: PCK@0.1 / @0.2",
                         f"{_pct(g['pck@0.1'])} / {_pct(g['pck@0.2'])}", "", ""])
        secs.append((f"Keypoints vs human annotations ({kh['set']}, end to end)",
                     ["measure", "SDK", "MediaPipe", f"PCK@0.2 within {TARGET_PCK_GAP * 100:g} pts"], rows,
                     ["PCK: fraction of labelled keypoints within 0.1 / 0.2 of the hand box size; a GT hand "
                      "is matched to the predicted hand with the best box IoU (> 0.1), unmatched hands are "
                      "left out of PCK and counted in 'hands matched'"]))
    if report.get("agreement"):
        rows = []
        for a in report["agreement"]:
            s, m = a["sdk"], a.get("mediapipe_live") or {}
            rows.append([a["set"], str(a["pseudo_hands"]), str(s["hands"]), _pct(s["pck@0.1"]), _pct(s["pck@0.2"]),
                         _ms(s["mean_error_px"]), _pct(m.get("pck@0.2")) if mp_ok else "-"])
        secs.append(("SDK agreement with MediaPipe's pseudo-labels (mediapipe_landmarks.jsonl)",
                     ["set", "pseudo hands", "SDK matched", "PCK@0.1", "PCK@0.2", "mean err px",
                      "live MediaPipe PCK@0.2 (sanity)"], rows,
                     ["agreement with MediaPipe, not accuracy: the pseudo-labels are MediaPipe's predictions"]))
    if report.get("gestures"):
        rows = []
        for g in report["gestures"]:
            rows.append([g["set"], g["gesture_set"], str(g["samples"]), _pct(g["sdk_end_to_end"]),
                         _pct(g["gesturenet_on_mediapipe"]),
                         _diff(g["sdk_end_to_end"], g["gesturenet_on_mediapipe"]),
                         f"{g['sdk_no_hand']} / {g['mediapipe_no_hand'] if g['mediapipe_no_hand'] is not None else '-'}",
                         _pf(g["pass"])])
        secs.append(("Gestures / letters on real images",
                     ["set", "gesture set", "images", "SDK end to end", "GestureNet on MP keypoints",
                      "diff (pts)", "no hand SDK / MP", f"within {TARGET_GESTURE_GAP * 100:g} pts"], rows,
                     ["both columns use the bundle's GestureNet; the second feeds it MediaPipe's keypoints and "
                      "handedness, so the difference is the SDK detector + pose model's share of the errors; "
                      "an image where no hand is found counts as wrong; the largest hand is classified"]
                     + _unmeasured_sets(report)))
    else:
        secs.append(("Gestures / letters on real images", ["note"],
                     [["no selected set has labels in one of the bundle's gesture sets"]], _unmeasured_sets(report)))
    if report.get("latency"):
        rows = []
        for r in report["latency"]:
            extra = []
            if "sdk_tracked_fraction" in r:
                extra.append(f"SDK tracked {_pct(r['sdk_tracked_fraction'])}")
            if "sdk_hand_fraction" in r:
                extra.append(f"hand found SDK {_pct(r['sdk_hand_fraction'])}"
                             + (f" / MP {_pct(r['mediapipe_hand_fraction'])}" if "mediapipe_hand_fraction" in r else ""))
            if r.get("not_comparable"):
                extra.append("NOT COMPARABLE: " + r["not_comparable"])
            pf = (f"n/a ({_pf(r['pass_raw'])} raw)" if r.get("not_comparable") else _pf(r["pass"]))
            rows.append([r["size"], r["mode"], _ms(r["sdk_ms"]), _ms(r["mediapipe_ms"]),
                         "-" if r["ratio"] is None else f"{r['ratio']:.2f}x", pf, "; ".join(extra)])
        lat = report.get("latency_setup", {})
        secs.append(("Latency per frame (median ms, same frames, same run)",
                     ["frame", "frames of", "SDK", "MediaPipe", "SDK/MP", f"<= {TARGET_LATENCY_RATIO:g}x", "notes"],
                     rows,
                     [f"detection = IMAGE mode (detector every frame); tracking = VIDEO mode, frames after the "
                      f"first of each clip of {lat.get('clip_len', '?')} (the hand is tracked); "
                      f"{lat.get('images', '?')} real images with one hand, letterboxed to 4:3 and resized; "
                      f"warm-up ({lat.get('warmup', '?')} frames) excluded; {lat.get('repeats', 1)} blocks per system and "
                      f"size in alternating order, pooled; max 1 hand for both; "
                      f"SDK {lat.get('threads', '?')} threads (includes GestureNet), MediaPipe Tasks exposes "
                      f"no thread count (its default); one process each, run one after the other"]
                     + _load_note(report)))
    rows = [[t["target"], f"{t['passed']}/{t['checked']}"
             + (f" ({t['not_comparable']} not comparable)" if t.get("not_comparable") else ""), _pf(t["pass"])]
            for t in report.get("targets", [])]
    secs.append(("Targets (directions, not asserts)", ["target", "passed", "result"], rows, []))
    return secs


def _load_note(report: dict) -> list[str]:
    la = [v for vals in (report.get("load_avg_latency") or {}).values() for v in vals]
    if not la:
        return []
    cores = (report.get("machine") or {}).get("usable_cores") or 1
    busy = max(la) > 0.5 * cores
    return [f"1-min load average while timing: {min(la):.1f}-{max(la):.1f} on {cores} cores"
            + (" - the machine was BUSY with other work: absolute times are inflated and noisy, the ratio "
               "less so (blocks alternate)" if busy else "")]


def _unmeasured_sets(report: dict) -> list[str]:
    left = sorted(set(report.get("bundle_gesture_sets") or ()) - set((report.get("gesture_sets") or {}).values()))
    if not left:
        return []
    return [f"not measured: the bundle's {', '.join(left)} set(s) - no selected real image set carries those labels "
            "(gesture_keypoints_csv has command keypoints but no images); add a folder of <gesture>/<images> to "
            "--sets to measure them"]


def _header_lines(report: dict) -> list[str]:
    m = report.get("machine", {})
    mp = report.get("mediapipe", {})
    lines = [f"machine: {m.get('cpu', '?')}, {m.get('cores', '?')} cores ({m.get('usable_cores', '?')} usable)"
             + (f", {m['simd']}" if m.get("simd") else "") + f", load avg {m.get('load_avg')}"
             + (f" (at the end: {report['load_avg_end']})" if report.get("load_avg_end") else ""),
             f"bundle: {report.get('bundle', '?')}"]
    if mp.get("available"):
        lines.append(f"MediaPipe {mp.get('version', '?')} Tasks HandLandmarker, model {mp.get('model')}")
    else:
        lines.append(f"MediaPipe: NOT AVAILABLE - {mp.get('message', 'not run')}; only the SDK columns are filled")
    for k, v in (report.get("skipped") or {}).items():
        lines.append(f"skipped {k}: {v}")
    return lines


def _text_table(headers, rows) -> str:
    w = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    fmt = lambda r: "  ".join(str(x).ljust(w[i]) for i, x in enumerate(r)).rstrip()  # noqa: E731
    return "\n".join([fmt(headers), fmt(["-" * x for x in w])] + [fmt(r) for r in rows])


def format_text(report: dict) -> str:
    out = _header_lines(report) + [""]
    for title, headers, rows, notes in report_sections(report):
        out += [title, _text_table(headers, rows)] + [f"  ({n})" for n in notes] + [""]
    if report.get("sanity"):
        out += ["sanity:"] + [f"  {s}" for s in report["sanity"]]
    return "\n".join(out).rstrip() + "\n"


def format_markdown(report: dict) -> str:
    esc = lambda s: str(s).replace("|", "\\|")  # noqa: E731
    out = ["<!-- made by `handsdk bench` -->"] + [f"{ln}  " for ln in _header_lines(report)] + [""]
    for title, headers, rows, notes in report_sections(report):
        out += [f"**{title}**", "", "| " + " | ".join(map(esc, headers)) + " |",
                "|" + "|".join("---" for _ in headers) + "|"]
        out += ["| " + " | ".join(esc(x) for x in r) + " |" for r in rows]
        out += [""] + [f"_{n}_" for n in notes] + ([""] if notes else [])
    if report.get("sanity"):
        out += ["Sanity checks:", ""] + [f"* {s}" for s in report["sanity"]] + [""]
    return "\n".join(out)


# ------------------------------------------------------------------ orchestration


def run_bench(bundle=None, *, sets=DEFAULT_SETS, data_root=None, limit: int | None = 100,
              mediapipe_venv=None, install: bool = True, use_mediapipe: bool = True, anchors=None,
              model: str = "full", threads: int | None = None, sizes=SIZES, latency_images_n: int = 10,
              warmup: int = 5, image_rounds: int = 5, clip_len: int = 6, repeats: int = 2, worker=None,
              worst_png=None, log: Callable[[str], None] = print) -> dict:
    """The whole benchmark; returns the report (see :func:`build_report`)."""
    from handsdk.stages import GestureClassifier, _bundle

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
    frames, keys, gt_boxes = {}, {}, {}
    for name, ss in chosen.items():
        keys[name] = []
        for i, s in enumerate(ss):
            k = f"{name.replace('/', '_').replace(':', '_')}__{i:05d}"
            frames[k] = np.ascontiguousarray(s.image)
            keys[name].append(k)
            if s.keypoint_source == "human":
                gt_boxes[k] = [keypoints_box(g[:, :2], g[:, 2] > 0) for g in s.keypoints if (g[:, 2] > 0).any()]
    # classifiers for the label sets in the data
    classifiers = {}
    bundle_sets = {n: tuple(e.labels or ()) for n, e in b.gesture_sets.items()}
    data_labels: dict = {}
    for ss in chosen.values():
        for s in ss:
            if s.label_set and s.label is not None:
                data_labels.setdefault(s.label_set, set()).add(s.label)
    for lset, labs in data_labels.items():
        gs = _gesture_map(bundle_sets, lset, labs)
        if gs:
            classifiers[lset] = GestureClassifier(b, gs, num_threads=1)
    report["gesture_sets"] = {k: v.gesture_set for k, v in classifiers.items()}
    report["bundle_gesture_sets"] = sorted(bundle_sets)
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
                r = run_worker(mp_py, {"model": str(mpath), "frames": str(npz),
                                       "accuracy": {"keys": list(frames), "num_hands": 2}}, tmp, worker=worker)
                mp_res = r["accuracy"]
                report["timing_s"]["mediapipe_accuracy"] = round(time.perf_counter() - t, 1)
                report["mediapipe"]["version"] = r.get("mediapipe_version", report["mediapipe"].get("version"))
            except MediaPipeUnavailable as e:
                report["mediapipe"] = {"available": False, "message": str(e)}
                log(f"MediaPipe failed: {e}\n-> continuing with the SDK columns only")
                mp_py = None
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
                        into.setdefault(size_, {}).setdefault(k_, []).extend(v)

            def sdk_block(size, arrs):
                t = time.perf_counter()
                merge(sdk_lat, run_sdk_latency(b, {size: arrs}, threads=threads, warmup=warmup,
                                               image_rounds=image_rounds, clip_len=clip_len))
                report["timing_s"]["sdk_latency"] += round(time.perf_counter() - t, 1)

            def mp_block(size, arrs):
                t = time.perf_counter()
                try:
                    r = run_worker(mp_py, {"model": str(mpath), "frames": str(npz), "latency": {
                        "sizes": {size: [f"lat_{size}_{i:03d}" for i in range(len(arrs))]},
                        "warmup": warmup, "image_rounds": image_rounds, "clip_len": clip_len, "num_hands": 1}},
                        tmp, worker=worker)
                    merge(mp_lat, r["latency"])
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


def to_json(report: dict) -> str:
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.dumps(report, indent=1, default=default)
