"""Find faces with OpenCV's Haar cascades, for :mod:`handsdk.train.data.faces`
(presence negatives) and ``handsdk bench`` (presence: hands vs faces).

Standalone: the project's ``opencv-python-headless`` ships no cascade files,
so this runs in the MediaPipe environment (``pip install mediapipe`` pulls
``opencv-contrib-python``, which has them); it imports only cv2 and the
standard library.

    python face_worker.py job.json

job.json: ``{"images": [path, ...], "out": "result.json", "min_size": 16}``, or
``{"frames": "frames.npz", "keys": [key, ...], ...}`` (RGB uint8 arrays, as for
the MediaPipe worker); result.json: ``{"cascades": [...], "faces": {path or
key: [[x0, y0, x1, y1], ...]}}`` (frontal faces and profiles looking either
way, in the image's pixels).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

CASCADES = ("haarcascade_frontalface_default.xml", "haarcascade_profileface.xml")


def _nms(boxes, iou=0.3):
    keep = []
    for b in sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1])):
        ok = True
        for k in keep:
            ix = max(0, min(b[2], k[2]) - max(b[0], k[0]))
            iy = max(0, min(b[3], k[3]) - max(b[1], k[1]))
            inter = ix * iy
            union = (b[2] - b[0]) * (b[3] - b[1]) + (k[2] - k[0]) * (k[3] - k[1]) - inter
            if union > 0 and inter / union > iou:
                ok = False
                break
        if ok:
            keep.append(b)
    return keep


def main(job_path) -> int:
    import cv2

    job = json.loads(Path(job_path).read_text())
    root = Path(cv2.data.haarcascades)
    cc = []
    for name in CASCADES:
        c = cv2.CascadeClassifier(str(root / name))
        if c.empty():
            raise SystemExit(f"cascade {root / name} did not load")
        cc.append((name, c))
    ms = int(job.get("min_size", 16))
    faces = {}
    if job.get("frames"):
        import numpy as np

        arrays = np.load(job["frames"])
        items = ((k, cv2.cvtColor(arrays[k], cv2.COLOR_RGB2GRAY)) for k in job["keys"] if k in arrays.files)
    else:
        items = ((p, cv2.imread(p, cv2.IMREAD_GRAYSCALE)) for p in job["images"])
    total = len(job.get("keys") or job.get("images") or [])
    t0 = time.monotonic()
    for n, (p, img) in enumerate(items, 1):
        if n % 250 == 0 or n == total:  # (read by run_worker: "progress: " lines on stderr)
            print(f"progress: {n}/{total} images ({time.monotonic() - t0:.0f}s)", file=sys.stderr, flush=True)
        if img is None:
            continue
        img = cv2.equalizeHist(img)
        w = img.shape[1]
        found = []
        for name, c in cc:
            for flip in ((False, True) if "profile" in name else (False,)):
                g = cv2.flip(img, 1) if flip else img
                r = c.detectMultiScale(g, scaleFactor=1.1, minNeighbors=5, minSize=(ms, ms))
                for (x, y, bw, bh) in (r if len(r) else []):
                    x0 = w - (x + bw) if flip else x
                    found.append([float(x0), float(y), float(x0 + bw), float(y + bh)])
        faces[p] = _nms(found)
    Path(job["out"]).write_text(json.dumps({"cascades": list(CASCADES), "faces": faces}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
