"""Train a custom gesture from a folder of example images, then recognise it.

    python examples/custom_gesture.py --data my_gestures/ --source 0 [--bundle model.handsdk] [-o mine.handsdk]

``--data`` holds one sub-folder of images per gesture (``my_gestures/rock/*.jpg``,
``my_gestures/shaka/*.jpg``; optionally ``none/`` with hands that are none of
them). The steps are the SDK's own custom-gesture workflow:

1. ``handsdk.capture.convert_class_folders``: the bundle's detector and
   landmarker turn every image into keypoints (a dataset folder, the format
   ``handsdk capture`` writes from a camera or video);
2. ``handsdk.train.custom.train_custom_gestures`` (needs the ``train`` extra):
   a GestureNet trained on those keypoints (augmented, with a ``none`` class
   from generic hands) in about a minute on CPU, written with the bundle's
   detector and landmarker into a new bundle (``-o``), with a confusion
   matrix PNG beside it;
3. the new bundle recognises ``--source`` (camera index, video, folder).

On a device with only the base install (no TensorFlow) step 2 is replaced by a
nearest-centroid classifier over ``handsdk.keypoint_features`` (the same
features GestureNet uses), so the example still runs; train on a desktop and
copy the bundle for the real thing.
"""
import argparse
import importlib.util
import tempfile
from pathlib import Path

import numpy as np

from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode, keypoint_features
from handsdk.capture import CaptureError, convert_class_folders, read_dataset
from handsdk.sources import SourceError, frames


def nearest_centroid(dataset: Path):
    ds = read_dataset(dataset)
    names = sorted(set(ds.labels) - {"none"})
    feats = np.stack([keypoint_features(k, h).ravel() for k, h in zip(ds.keypoints, ds.handedness)])
    labels = np.array(ds.labels)
    table = np.stack([feats[labels == n].mean(axis=0) for n in names])
    return names, table


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="base model bundle (default: the one shipped with handsdk)")
    ap.add_argument("--data", required=True, help="folder with one sub-folder of images per gesture")
    ap.add_argument("--source", default="0", help="camera index, video file or folder to recognise (default: 0)")
    ap.add_argument("-o", "--output", help="the new bundle (default: custom.handsdk in a temporary folder)")
    ap.add_argument("--seconds", type=float, default=60.0, help="training time budget")
    ap.add_argument("--centroid", action="store_true", help="use the nearest-centroid classifier even with the "
                                                            "train extra installed")
    ap.add_argument("--max-distance", type=float, default=2.0, help="nearest-centroid only: farther than this "
                                                                    "from every gesture is none")
    a = ap.parse_args()

    data = Path(a.data)
    if not data.is_dir():
        raise SystemExit(f"error: --data {data} is not a folder")
    work = Path(tempfile.mkdtemp(prefix="handsdk-custom-"))
    try:
        rep = convert_class_folders(data, work / "dataset", bundle=a.bundle, progress=None)
    except CaptureError as e:
        raise SystemExit(f"error: {e}")
    counts = read_dataset(work / "dataset").labels
    print("keypoints from images: " + ", ".join(f"{k} ({counts.count(k)} images)" for k in sorted(set(counts)))
          + (f"; {rep.no_hand} without a hand" if rep.no_hand else ""))

    trained = importlib.util.find_spec("tensorflow") is not None and not a.centroid
    if trained:
        from handsdk.train.custom import CustomGestureOptions, CustomTrainingError, train_custom_gestures

        out = Path(a.output) if a.output else work / "custom.handsdk"
        try:
            report = train_custom_gestures(work / "dataset", a.bundle or _default(), out,
                                           CustomGestureOptions(set_name="custom", time_budget_s=a.seconds),
                                           progress=None)
        except CustomTrainingError as e:
            raise SystemExit(f"error: {e}")
        val = report.get("validation") or {}
        acc = f"validation accuracy {val['accuracy']:.2f}" if val else "no validation split (few samples)"
        print(f"trained GestureNet 'custom' ({', '.join(report['labels'])}): {acc}; wrote {out}")
        bundle = out
    else:
        names, table = nearest_centroid(work / "dataset")
        print(f"nearest-centroid classifier over {', '.join(names)} (no TensorFlow here)")
        bundle = a.bundle

    n = 0
    with GestureRecognizer(GestureRecognizerOptions(bundle=bundle, running_mode=RunningMode.VIDEO,
                                                    color_order="BGR")) as rec:  # frames() reads with OpenCV
        try:
            for frame, ts in frames(a.source):
                result = rec.recognize(frame, ts)
                n += 1
                for h in result.hands:
                    if trained:
                        top = h.gestures["custom"][0]
                        label, detail = top.name, f"score {top.score:.2f}"
                    else:
                        d = np.linalg.norm(table - keypoint_features(h.keypoints, h.handedness.name).ravel(), axis=1)
                        k = int(np.argmin(d))
                        label, detail = (names[k] if d[k] <= a.max_distance else "none"), f"distance {d[k]:.2f}"
                    print(f"[{ts:6d} ms] hand #{h.track_id}: {label} ({detail})")
        except SourceError as e:
            raise SystemExit(f"error: {e}")
        except KeyboardInterrupt:
            pass
    print(f"done: {n} frames")


def _default():
    from handsdk.bundle import default_bundle_path

    path = default_bundle_path()
    if path is None:
        raise SystemExit("error: this install ships no default bundle; pass --bundle")
    return path


if __name__ == "__main__":
    main()
