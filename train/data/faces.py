"""Faces as presence negatives: where a person is in view, the face is what a
hand detector takes for a hand, and what the landmarker's presence score must
reject.

Detector mining (:mod:`handsdk.train.data.mining`) finds only the faces a
given detector fires on, and a detector trained on those frames soon fires on
few of them (100 boxes in 3334 frames for the 224x176 detector), so the
presence head sees few faces. This module finds every face OpenCV's Haar
cascades see in the scene sets (frontal and profile), keeps those far from
every known hand (:func:`mining.is_far`: a hand over the mouth is not a
negative) and writes them in the hard-negative format that
``data.hard_negatives`` reads, each face twice: its cascade box and that box
grown to the head and neck (what a detector boxes on a face) where that too
holds no hand::

    python -m handsdk.train.data.faces -o runs/faces.json [--sets ...]

The cascades run in the MediaPipe environment (the project's OpenCV has no
cascade files; ``handsdk/train/mediapipe/face_worker.py``), created on demand as for
``handsdk bench``.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from handsdk.train.data import mining

#: shippable sets with people in view, and the close-ups where a face shows
#: (asl_signers_studio never: its licence allows validation only). selfie_people
#: (six people, group selfies) is trained on: its faces are the most varied the
#: shippable data has; asl_signers_studio measures faces never seen
DEFAULT_SETS = ("webcam_finger_counts/train", "webcam_signs/train", "ksl_signers", "isl_phone", "driver_cam",
                "selfie_people", "asl_letters/train", "closeup_finger_counts/train", "closeup_open_hands/train")
#: the second box of each face: the cascade box grown this much, its centre
#: moved down by ``HEAD_SHIFT`` of the face's height (head, hair and neck)
HEAD_GROW = 1.6
HEAD_SHIFT = 0.15


def head_box(face) -> list[float]:
    x0, y0, x1, y1 = (float(v) for v in face)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2 + HEAD_SHIFT * (y1 - y0)
    hw, hh = (x1 - x0) / 2 * HEAD_GROW, (y1 - y0) / 2 * HEAD_GROW
    return [round(cx - hw, 1), round(cy - hh, 1), round(cx + hw, 1), round(cy + hh, 1)]


def run_cascades(paths, *, venv=None, install: bool = True, min_size: int = 16, log=print,
                 timeout: int | None = None) -> dict[str, list]:
    """{path: [[x0, y0, x1, y1], ...]} of the faces in image files (``timeout``:
    default an hour, or 2 s an image when there are more; the worker's
    progress goes to ``log``)."""
    from handsdk.train.mediapipe.env import ensure_mediapipe, run_face_worker

    py = ensure_mediapipe(venv, install=install, log=log)
    with tempfile.TemporaryDirectory(prefix="handsdk-faces-") as td:
        timeout = timeout or max(3600, 2 * len(paths))
        return run_face_worker(py, {"images": [str(p) for p in paths], "min_size": min_size}, td, timeout=timeout,
                               log=log)


def mine_faces(sets=DEFAULT_SETS, *, root=None, venv=None, install: bool = True, log=print) -> dict:
    """The hard-negative file's content: faces far from every known hand."""
    from handsdk.train.data import registry

    t0 = time.time()
    samples = []
    for spec in sets:
        name, _, split = spec.partition("/")
        got = [s for s in registry.load_dataset(name, split or None, root, load_image=False)  # (the worker reads them)
               if s.path and Path(s.path).is_file()]
        log(f"  {spec}: {len(got)} frames")
        samples += got
    faces = run_cascades([s.path for s in samples], venv=venv, install=install, log=log)
    out: dict[str, list] = {}
    n_face = n_near = 0
    for s in samples:
        hands = mining.known_hands(s)
        for f in faces.get(str(s.path), []):
            if not mining.is_far(f, hands):
                n_near += 1
                continue
            n_face += 1
            hb = head_box(f)  # the grown box only where it too holds no hand
            out.setdefault(s.path, []).extend([[round(v, 1) for v in f]] + ([hb] if mining.is_far(hb, hands) else []))
    log(f"  {n_face} faces kept in {len(out)} of {len(samples)} frames, {n_near} near a hand dropped "
        f"({time.time() - t0:.0f}s)")
    return {"source": "opencv haar cascades (frontal + profile), far from known hands", "sets": list(sets),
            "frames": len(samples), "faces": n_face, "boxes": out, "cascade_faces": faces}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m handsdk.train.data.faces", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default=",".join(DEFAULT_SETS), help="comma-separated <set>[/<split>]")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--mediapipe-venv", default=None, help="environment with opencv-contrib (default: bench's)")
    ap.add_argument("--no-install", action="store_true", help="never create the MediaPipe environment")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args(argv)
    res = mine_faces([s for s in a.sets.split(",") if s], root=a.data_root, venv=a.mediapipe_venv,
                     install=not a.no_install)
    mining.save(res, a.output)
    print(f"{res['faces']} faces ({sum(len(v) for v in res['boxes'].values())} boxes) in {len(res['boxes'])} "
          f"of {res['frames']} frames -> {a.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
