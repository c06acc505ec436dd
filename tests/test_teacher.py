"""MediaPipe's landmark model as a teacher (issue 27.4): which boxes it
labels, how its hands join the training samples (data.teacher), and, with
the shared anchors and data present, that it reproduces MediaPipe's
pseudo-labels from a hand's box alone."""
import json

import numpy as np
import pytest

from handsdk.train.data import teacher as T
from handsdk.train.data.sample import Sample


def _hand(x0, y0, side=40.0):
    kp = np.zeros((21, 3), np.float32)
    kp[:, 0] = np.linspace(x0, x0 + side, 21)
    kp[:, 1] = np.linspace(y0 + side, y0, 21)
    return kp


def _sample(kps, human, rel="train/images/a.jpg"):
    kps = np.asarray(kps, np.float32).reshape(-1, 21, 3)
    from handsdk.keypoints import keypoints_box

    return Sample(image=None, boxes=np.asarray([keypoints_box(k[:, :2]) for k in kps], np.float32).reshape(-1, 4),
                  keypoints=kps, keypoint_source="mediapipe", handedness=["Left"] * len(kps), source="webcam_x",
                  path="/somewhere/webcam_x/" + rel, extras={"relpath": rel, "human_boxes": np.asarray(human)})


def test_only_human_boxes_no_pseudo_label_covers_are_left_to_the_teacher():
    s = _sample([_hand(10, 10)], [[8, 8, 52, 52], [100, 20, 140, 70]])
    left = T.unlabelled_boxes(s)
    assert len(left) == 1 and np.allclose(left[0], [100, 20, 140, 70])
    assert T.unlabelled_boxes(_sample([], [[8, 8, 52, 52]]))[0].tolist() == [8, 8, 52, 52]
    assert T.sample_key(s) == "webcam_x/train/images/a.jpg"  # (not where the data folder is)


def test_teacher_hands_join_their_samples_once(tmp_path):
    s = _sample([_hand(10, 10)], [[8, 8, 52, 52], [100, 20, 140, 70]])
    other = _sample([_hand(10, 10)], [], rel="train/images/b.jpg")
    kp = _hand(100, 25).tolist()
    f = tmp_path / "t.json"
    f.write_text(json.dumps({"hands": {"webcam_x/train/images/a.jpg": [
        {"keypoints": kp, "handedness": "Right", "score": 0.99, "box": [100, 20, 140, 70]}]}}))
    hands = T.load(f)
    assert T.merge([s, other, s], hands) == 1  # the same sample drawn twice gets them once
    assert s.keypoints.shape == (2, 21, 3) and (s.keypoints[1, :, 2] == 1).all()
    assert s.handedness == ["Left", "Right"] and s.boxes.shape == (2, 4)
    np.testing.assert_allclose(s.boxes[1], [100, 25, 140, 65])
    assert other.keypoints.shape == (1, 21, 3)
    with pytest.raises(FileNotFoundError, match="python -m handsdk.train.data.teacher"):
        T.load(tmp_path / "missing.json")


def test_data_teacher_keeps_frames_whose_boxed_hands_mediapipe_missed(tmp_path, monkeypatch):
    """A frame where people boxed a hand MediaPipe did not label is dropped
    from pose training (it would teach "no hand here"); with the teacher's
    keypoints for that box it trains, with the teacher's hand."""
    from handsdk.train.config import config_from_dict
    from handsdk.train.data import registry
    from handsdk.train.trainer import TaskData

    def frames():
        a = _sample([_hand(10, 10)], [[8, 8, 52, 52]], rel="train/images/a.jpg")
        b = _sample([], [[100, 20, 140, 70]], rel="train/images/b.jpg")
        for s in (a, b):
            s.image = np.zeros((120, 160, 3), np.uint8)
            s.extras["missed_boxes"] = np.asarray(T.unlabelled_boxes(s) if s is b else [], np.float32).reshape(-1, 4)
        return [a, b]

    monkeypatch.setattr(registry, "load_dataset", lambda *a, **k: frames())
    f = tmp_path / "t.json"
    f.write_text(json.dumps({"hands": {"webcam_x/train/images/b.jpg": [
        {"keypoints": _hand(100, 25).tolist(), "handedness": "Right", "score": 0.99, "box": [100, 20, 140, 70]}]}}))
    base = {"task": "pose", "model": {"input_size": 32, "filters": [8, 12, 16], "scales": [4, 2],
                                      "scale_weights": [0.5, 1.0]},
            "data": {"train": [{"name": "real:webcam_x/train"}], "num_train": 8, "num_val": 0, "val": [],
                     "negatives": 0.0}}
    plain = TaskData(config_from_dict(base))
    taught = TaskData(config_from_dict({**base, "data": {**base["data"], "teacher": f"{f},{f}"}}))
    assert plain.teacher_hands == 0 and plain.num_train == 1  # b is dropped
    assert taught.teacher_hands == 1 and taught.num_train == 2  # (the file given twice: the hand once)


@pytest.mark.data
def test_the_teacher_reproduces_mediapipes_pseudo_labels_from_a_box():
    from handsdk.keypoints import keypoints_box
    from handsdk.train.data import registry
    from handsdk.train.data.catalog import data_root
    from handsdk.train.data.formats import ensure_image
    from handsdk.train.mediapipe.env import anchors_dir

    try:
        model = anchors_dir(None) / T.MODEL_FILE
        ss = registry.load_dataset("webcam_finger_counts", "valid", data_root(), load_image=False)
    except (FileNotFoundError, OSError, KeyError) as e:
        pytest.skip(f"shared data or anchors absent: {e}")
    if not model.is_file():
        pytest.skip("no hand_landmark_full.tflite")
    t = T.Teacher(model)
    errs, right = [], []
    for s in [s for s in ss if len(s.keypoints)][:12]:
        ensure_image(s)
        kp, hd = s.keypoints[0], s.handedness[0]
        kb = keypoints_box(kp[:, :2])
        side = max(kb[2] - kb[0], kb[3] - kb[1])
        r = t.label(s.image, kb + np.array([-0.1, -0.1, 0.1, 0.1]) * side)
        if r is None:
            continue
        errs.append(np.hypot(*(r[0][:, :2] - kp[:, :2]).T).mean() / side)
        right.append((r[2] >= 0.5) == (hd == "Right"))
    assert len(errs) >= 10 and np.median(errs) < 0.05 and np.mean(right) >= 0.9, (errs, right)
