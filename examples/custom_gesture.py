"""A custom gesture from a folder of example images.

    python examples/custom_gesture.py --bundle model.handsdk --data my_gestures/ --source 0

``--data`` holds one sub-folder per gesture (``my_gestures/rock/*.jpg``,
``my_gestures/shaka/*.jpg``...). The bundle's detector and landmarker find
the hand in every image; the gesture is then recognised from the keypoints
with a nearest-centroid classifier over ``handsdk.keypoint_features`` (the
same translation-, scale- and handedness-invariant features the bundled
GestureNet uses). No training framework is needed; for a real GestureNet
baked into a bundle, use the training CLI once your install has it
(``handsdk train gesture --data <folder> --base <bundle> -o my.handsdk``).
"""
import argparse
from pathlib import Path

import numpy as np

from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode, keypoint_features
from handsdk.sources import IMAGE_SUFFIXES, SourceError, frames, read_image


def learn(rec, data: Path):
    centroids, counts = {}, {}
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        feats = []
        for img in sorted(folder.iterdir()):
            if img.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            result = rec.recognize(read_image(img))
            if result.hands:
                h = result.hands[0]
                feats.append(keypoint_features(h.keypoints, h.handedness.name).ravel())
        if feats:
            centroids[folder.name] = np.mean(feats, axis=0)
            counts[folder.name] = len(feats)
    return centroids, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the one shipped with handsdk)")
    ap.add_argument("--data", required=True, help="folder with one sub-folder of images per gesture")
    ap.add_argument("--source", default="0", help="camera index, video file or folder to recognise (default: 0)")
    ap.add_argument("--max-distance", type=float, default=2.0, help="farther than this from every gesture: none")
    a = ap.parse_args()

    data = Path(a.data)
    if not data.is_dir():
        raise SystemExit(f"error: --data {data} is not a folder")
    with GestureRecognizer(GestureRecognizerOptions(bundle=a.bundle, running_mode=RunningMode.IMAGE)) as rec:
        centroids, counts = learn(rec, data)
    if not centroids:
        raise SystemExit(f"error: no hand found in any image under {data}")
    print("learned " + ", ".join(f"{k} ({n} images)" for k, n in counts.items()))
    names = list(centroids)
    table = np.stack([centroids[k] for k in names])
    n = 0
    with GestureRecognizer(GestureRecognizerOptions(bundle=a.bundle, running_mode=RunningMode.VIDEO)) as rec:
        try:
            for frame, ts in frames(a.source):
                result = rec.recognize(frame, ts)
                n += 1
                for h in result.hands:
                    f = keypoint_features(h.keypoints, h.handedness.name).ravel()
                    d = np.linalg.norm(table - f, axis=1)
                    k = int(np.argmin(d))
                    label = names[k] if d[k] <= a.max_distance else "none"
                    print(f"[{ts:6d} ms] hand #{h.track_id}: {label} (distance {d[k]:.2f})")
        except SourceError as e:
            raise SystemExit(f"error: {e}")
        except KeyboardInterrupt:
            pass
    print(f"done: {n} frames")


if __name__ == "__main__":
    main()
