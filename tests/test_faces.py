"""Faces as presence negatives (handsdk.train.data.faces): faces near a hand are
dropped, the grown head box only where it holds no hand, the file reads back
as hard negatives, and the pose pool takes data.hard_per_frame of a frame's boxes."""
import json
from types import SimpleNamespace

import numpy as np
import pytest

from handsdk.train.data import faces as F
from handsdk.train.mediapipe import face_worker
from handsdk.train.data import mining
from handsdk.train.data.sample import Sample
from handsdk.train.models.pose.examples import pose_pool


def _hand(x0, y0, size=30.0):
    t = np.linspace(0, 1, 21)
    kp = np.stack([x0 + size * t, y0 + size * ((t * 7) % 1)], 1)
    return np.concatenate([kp, np.ones((21, 1))], 1).astype(np.float32)


def _sample(path, hands):
    s = Sample(image=np.zeros((240, 320, 3), np.uint8), keypoints=np.asarray(hands, np.float32).reshape(-1, 21, 3),
               keypoint_source="mediapipe", source="webcam_finger_counts", path=path)
    from handsdk.keypoints import keypoints_box

    s.boxes = np.array([keypoints_box(k[:, :2]) for k in s.keypoints], np.float32).reshape(-1, 4)
    return s


def test_head_box_grows_the_face_and_moves_down():
    hb = F.head_box([100, 100, 140, 140])
    assert hb[2] - hb[0] == pytest.approx(40 * F.HEAD_GROW) and hb[3] - hb[1] == pytest.approx(40 * F.HEAD_GROW)
    assert (hb[1] + hb[3]) / 2 == pytest.approx(120 + F.HEAD_SHIFT * 40)
    assert (hb[0] + hb[2]) / 2 == pytest.approx(120)


def test_faces_near_hands_are_dropped_and_the_file_reads_as_hard_negatives(monkeypatch, tmp_path):
    frames = {"a.jpg": _sample("a.jpg", [_hand(250, 150)]),      # hand far from the face
              "b.jpg": _sample("b.jpg", [_hand(105, 110, 20)]),  # hand over the mouth
              "c.jpg": _sample("c.jpg", [_hand(145, 70, 20)])}   # hand beside the head: face kept, head box not
    face = [100.0, 80.0, 140.0, 120.0]
    from handsdk.train.data import registry

    monkeypatch.setattr(registry, "load_dataset", lambda name, split, root, **kw: list(frames.values()))
    monkeypatch.setattr(F.Path, "is_file", lambda self: True)
    monkeypatch.setattr(F, "run_cascades", lambda paths, **kw: {p: [face] for p in paths})
    res = F.mine_faces(["webcam_finger_counts/train"], log=lambda *a: None)
    assert res["faces"] == 2 and res["frames"] == 3
    assert res["boxes"]["a.jpg"] == [face, F.head_box(face)]
    assert "b.jpg" not in res["boxes"]
    assert res["boxes"]["c.jpg"] == [face]
    for p, bs in res["boxes"].items():  # nothing kept touches a known hand
        assert all(mining.is_far(b, mining.known_hands(frames[p])) for b in bs)
    f = tmp_path / "faces.json"
    f.write_text(json.dumps(res))
    assert mining.load(str(f)) == res["boxes"]


def test_worker_merges_overlapping_cascade_boxes():
    kept = face_worker._nms([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]])
    assert kept in ([[0, 0, 10, 10], [50, 50, 60, 60]], [[1, 1, 11, 11], [50, 50, 60, 60]])
    assert len(face_worker._nms([[0, 0, 10, 10], [20, 0, 30, 10]])) == 2


def test_pose_pool_takes_hard_per_frame_boxes():
    img = np.full((120, 160, 3), 60, np.uint8)
    s = Sample(image=img, keypoints=_hand(10, 10)[None], keypoint_source="mediapipe", handedness=["Right"],
               path="/x/f.jpg")
    cfg = SimpleNamespace(align=False, rotation=0.0, box_jitter=0.0, scale_jitter=0.0, crop_scale=1.4,
                          near_negatives=0.0, align_prob=0.0, align_jitter=0.0)
    boxes = {"/x/f.jpg": [[100, 60, 140, 100], [60, 60, 90, 90], [120, 10, 150, 40], [70, 5, 95, 30]]}
    for k in (0, 2, 4, 9):
        pool = pose_pool([s], 32, cfg, np.random.default_rng(0), negatives=0.0, jitter=False,
                           hard_negatives=boxes, hard_per_frame=k)
        assert list(pool["presence"]).count(0.0) == min(k, 4)
        assert list(pool["presence"]).count(1.0) == 1


def test_hard_per_frame_is_validated():
    from handsdk.train.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="hard_per_frame"):
        config_from_dict({"task": "pose", "data": {"hard_per_frame": -1}})
    assert config_from_dict({"task": "pose", "data": {"hard_per_frame": 4}}).data.hard_per_frame == 4


def test_hard_negative_scale_jitter_scales_the_crop_and_draws_nothing_when_off():
    img = np.zeros((200, 200, 3), np.uint8)
    img[90:110, 90:110] = 255  # a white square at the mined box's centre: its size in the crop shows the scale
    s = Sample(image=img, keypoints=np.zeros((0, 21, 3), np.float32), keypoint_source="mediapipe", path="/x/g.jpg")
    boxes = {"/x/g.jpg": [[80, 80, 120, 120]]}
    base = dict(align=False, rotation=0.0, box_jitter=0.0, scale_jitter=0.0, crop_scale=1.4, near_negatives=0.0,
                align_prob=0.0, align_jitter=0.0, aspect_prob=0.0, aspect_jitter=0.0)
    sizes = []
    for seed in range(12):
        cfg = SimpleNamespace(**base, hard_scale_jitter=0.7)
        pool = pose_pool([s], 64, cfg, np.random.default_rng(seed), negatives=0.0, jitter=True, hard_negatives=boxes)
        sizes.append((pool["image"][0].mean(-1) > 127).sum())
    assert max(sizes) > 1.5 * min(sizes)  # the white square's area in the crop varies with the scale
    # off: the generator is not touched (pools of existing configs stay as they were)
    r0, r1 = np.random.default_rng(3), np.random.default_rng(3)
    pose_pool([s], 64, SimpleNamespace(**base, hard_scale_jitter=0.0), r0, negatives=0.0, jitter=True,
                hard_negatives=boxes)
    pose_pool([s], 64, SimpleNamespace(**base), r1, negatives=0.0, jitter=True, hard_negatives=boxes)
    assert r0.random() == r1.random()


def _scene(image, kp, human):
    s = Sample(image=image, keypoints=np.asarray(kp, np.float32).reshape(-1, 21, 3), keypoint_source="mediapipe",
               source="webcam_finger_counts")
    s.extras["human_boxes"] = np.asarray(human, np.float32).reshape(-1, 4)
    s.extras["pseudo_labelled"] = True
    return s


def test_bench_presence_table_scores_hands_against_faces_far_from_them(bundle_path):
    """The bench's presence table: MediaPipe's hands vs faces, a face touching a
    known hand left out, counts and rates per scene set, rendered in the report."""
    from handsdk.tools.bench_presence import face_keys, presence_rows
    from handsdk.tools.bench_report import format_markdown, report_sections
    from tests.conftest import red_stroke_frame

    img = red_stroke_frame()  # the tiny test bundle finds a hand in the red stroke (100..180, 60..160)
    hand = _hand(110, 70, 60)
    samples = {"webcam_finger_counts": [_scene(img, [hand], [[100, 60, 180, 160]]) for _ in range(2)],
               "asl_letters": [_scene(img, [hand], [[100, 60, 180, 160]])]}  # not a scene set: no row
    keys = {"webcam_finger_counts": ["a", "b"], "asl_letters": ["c"]}
    assert face_keys(keys) == ["a", "b"]
    faces = {"a": [[250, 20, 300, 70], [120, 80, 170, 130]],  # the second lies on the hand: dropped
             "b": [[10, 150, 60, 200]]}
    rows = presence_rows(bundle_path, samples, keys, faces)
    assert [r["set"] for r in rows] == ["webcam_finger_counts"]
    r = rows[0]
    assert r["hands"] == 2 and r["faces"] == 2
    assert r["auc"] is not None and 0.0 <= r["auc"] <= 1.0
    assert 0.0 <= r["hands_kept"] <= 1.0 and 0.0 <= r["faces_refused"] <= 1.0
    assert r["background"] >= 2 and r["auc_background"] is not None and 0.0 <= r["background_refused"] <= 1.0
    assert r["forearms"] == 2 * len(F_boxes(hand, img.shape))
    rep = {"presence": rows, "detection": [], "agreement": [], "gestures": [], "latency": [], "targets": [],
           "keypoints_human": None}
    titles = [t for t, *_ in report_sections(rep)]
    assert "Presence: hands vs faces (SDK landmarker)" in titles
    assert f"faces refused at {r['threshold']:g}" in format_markdown(dict(rep, machine={}, bundle="b"))


def F_boxes(hand, shape):
    from handsdk.train.metrics import far_from_all
    from handsdk.stages import hand_box
    from handsdk.tools.bench_presence import forearm_boxes

    return [b for b in forearm_boxes(hand[None], shape) if far_from_all(b, [hand_box(hand[:, :2])])]


def _upright_hand(wrist=(100.0, 150.0), size=40.0):
    """Wrist at the bottom, fingers up (MediaPipe order: 9 is the middle knuckle)."""
    kp = np.zeros((21, 3), np.float32)
    kp[:, 2] = 1
    kp[0, :2] = wrist
    for i in range(1, 21):
        finger, joint = (i - 1) // 4, (i - 1) % 4
        kp[i, :2] = (wrist[0] + (finger - 2) * size / 6, wrist[1] - size * (0.4 + 0.2 * joint))
    return kp


def test_forearm_crop_lies_beyond_the_wrist_away_from_the_fingers():
    from handsdk.tools.bench_presence import FOREARM_OFFSET, forearm_boxes

    hand = _upright_hand()
    (arm,) = forearm_boxes(hand[None], (300, 200))
    side = arm[2] - arm[0]
    assert side == pytest.approx(arm[3] - arm[1])
    assert (arm[0] + arm[2]) / 2 == pytest.approx(100, abs=1e-3)  # straight below the wrist
    assert (arm[1] + arm[3]) / 2 == pytest.approx(150 + FOREARM_OFFSET * side, abs=1e-3)
    assert forearm_boxes(hand[None], (170, 200)) == []  # mostly out of the frame: none
    far = _upright_hand(wrist=(-100.0, -200.0))  # far off the frame's corner: its forearm too
    assert forearm_boxes(far[None], (300, 200)) == []
    gone = hand.copy()
    gone[0, 2] = -1
    assert forearm_boxes(gone[None], (300, 200)) == []  # no wrist: none


def test_background_crops_stay_far_from_everything_known():
    from handsdk.train.metrics import far_from_all
    from handsdk.tools.bench_presence import background_boxes

    avoid = [np.array([0, 0, 100, 100], np.float32), np.array([150, 150, 300, 240], np.float32)]
    rng = np.random.default_rng(0)
    got = background_boxes((240, 320), avoid, 40.0, rng, n=3)
    assert 1 <= len(got) <= 3
    for i, b in enumerate(got):
        assert b[2] - b[0] == pytest.approx(40) and 0 <= b[0] and b[2] <= 320 and 0 <= b[1] and b[3] <= 240
        assert far_from_all(b, avoid + got[:i] + got[i + 1:])
    assert background_boxes((240, 320), [np.array([0, 0, 320, 240], np.float32)], 40.0, rng) == []


def test_the_face_worker_reads_frames_from_an_npz(tmp_path):
    """Run for real where the MediaPipe environment (with opencv-contrib) exists:
    a blank frame has no face, every key comes back."""
    from handsdk.train.mediapipe.env import DEFAULT_VENV, run_face_worker, venv_python

    py = venv_python(DEFAULT_VENV)
    if not py.is_file():
        pytest.skip("no MediaPipe environment")
    np.savez(tmp_path / "f.npz", k1=np.zeros((120, 160, 3), np.uint8), k2=np.full((120, 160, 3), 200, np.uint8))
    faces = run_face_worker(py, {"frames": str(tmp_path / "f.npz"), "keys": ["k1", "k2"]}, tmp_path)
    assert faces == {"k1": [], "k2": []}
