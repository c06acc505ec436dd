"""Camera scenes (a person in view): the scene-set readers on generated
folders, the scene metrics (hands found on human boxes, false hands), the
benchmark's scene rows and worst-frames grid, the hard-negative filter, the
detector pool's zoom and the pose pool's hard negatives."""
from __future__ import annotations

import json
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from handsdk.tools.bench_metrics import scene_rows
from handsdk.tools.bench_report import format_text, worst_frames_png
from handsdk.train import metrics as M
from handsdk.train.data import mining, scenes
from handsdk.train.data import catalog, registry
from handsdk.train.data.formats import DataFormatError
from handsdk.train.data.sample import Sample
from handsdk.train.models.detector.examples import detector_pool
from handsdk.train.models.pose.examples import pose_pool


def _hand(x0, y0, size=40.0):
    t = np.linspace(0, 1, 21)
    kp = np.stack([x0 + size * t, y0 + size * ((t * 7) % 1)], 1)
    return np.concatenate([kp, np.ones((21, 1))], 1).astype(np.float32)


def _record(rel, w, h, hands):
    return {"image": rel, "width": w, "height": h,
            "hands": [{"keypoints": [[float(x), float(y), 0.0] for x, y, _ in k], "handedness": "Right",
                       "handedness_score": 0.9} for k in hands]}


def _voc(path, boxes, names, w=160, h=120):
    objs = "".join(f"<object><name>{n}</name><bndbox><xmin>{b[0]}</xmin><ymin>{b[1]}</ymin><xmax>{b[2]}</xmax>"
                   f"<ymax>{b[3]}</ymax></bndbox></object>" for b, n in zip(boxes, names))
    path.write_text(f"<annotation><size><width>{w}</width><height>{h}</height></size>{objs}</annotation>")


@pytest.fixture
def scene_root(tmp_path):
    """A tiny data root with webcam_finger_counts (VOC, split), isl_phone (flat
    YOLO) and closeup_open_hands (oriented YOLO)."""
    root = tmp_path / "data"
    img = np.full((120, 160, 3), 90, np.uint8)
    recs = []
    d = root / "webcam_finger_counts" / "valid"
    (d / "images").mkdir(parents=True)
    (d / "labels").mkdir()
    # a: two hands boxed, MediaPipe found both; b: one boxed hand MediaPipe missed
    cv2.imwrite(str(d / "images" / "a.jpg"), img)
    _voc(d / "labels" / "a.xml", [[8, 8, 52, 52], [98, 58, 142, 102]], ["3-hand", "0-hand"])
    recs.append(_record("valid/images/a.jpg", 160, 120, [_hand(100, 60), _hand(10, 10)]))
    cv2.imwrite(str(d / "images" / "b.jpg"), img)
    _voc(d / "labels" / "b.xml", [[60, 30, 100, 80]], ["5-hand"])
    recs.append(_record("valid/images/b.jpg", 160, 120, []))
    (root / "webcam_finger_counts" / "mediapipe_landmarks.jsonl").write_text(
        "\n".join(json.dumps(r) for r in recs) + "\n")
    d = root / "isl_phone"
    (d / "images").mkdir(parents=True)
    (d / "labels").mkdir()
    (d / "classes.txt").write_text("Hello\nI Love You\n")
    cv2.imwrite(str(d / "images" / "c.jpg"), img)
    # one box around both hands of a sign
    (d / "labels" / "c.txt").write_text("1 0.5 0.5 0.75 0.5\n")
    (d / "mediapipe_landmarks.jsonl").write_text(json.dumps(
        _record("images/c.jpg", 160, 120, [_hand(25, 35), _hand(95, 35)])) + "\n")
    d = root / "closeup_open_hands" / "train"
    (d / "images").mkdir(parents=True)
    (d / "labels").mkdir()
    (root / "closeup_open_hands" / "classes.txt").write_text("hand\n")
    cv2.imwrite(str(d / "images" / "e.jpg"), img)
    (d / "labels" / "e.txt").write_text("0 0.75 0.25 0.25 0.25 0.25 0.75 0.75 0.75\n")
    (root / "closeup_open_hands" / "mediapipe_landmarks.jsonl").write_text("")
    return root


def test_voc_scene_reader_labels_every_hand_and_missed_boxes(scene_root):
    ss = registry.load_dataset("webcam_finger_counts", "valid", scene_root)
    assert [s.extras["relpath"] for s in ss] == ["valid/images/a.jpg", "valid/images/b.jpg"]
    a, b = ss
    assert a.keypoints.shape == (2, 21, 3) and a.keypoint_source == "mediapipe"
    np.testing.assert_allclose(a.extras["human_boxes"], [[8, 8, 52, 52], [98, 58, 142, 102]])
    assert a.extras["human_classes"] == ["3", "0"] and a.label == "3"
    # per pseudo hand, the class of the box that holds it (pseudo order differs from box order)
    assert a.extras["hand_labels"] == ["0", "3"]
    assert len(a.extras["missed_boxes"]) == 0 and not scenes.has_unlabelled_hand(a)
    assert len(b.keypoints) == 0 and scenes.has_unlabelled_hand(b)
    with pytest.raises(ValueError, match="splits"):
        registry.load_dataset("webcam_finger_counts", "test", scene_root)


def test_flat_yolo_and_oriented_boxes(scene_root):
    (c,) = registry.load_dataset("isl_phone", None, scene_root)
    np.testing.assert_allclose(c.extras["human_boxes"], [[20, 30, 140, 90]], atol=1e-3)
    assert c.label == "i_love_you" and c.extras["hand_labels"] == ["i_love_you", "i_love_you"]
    (e,) = registry.load_dataset("closeup_open_hands", "train", scene_root)
    np.testing.assert_allclose(e.extras["human_boxes"], [[40, 30, 120, 90]], atol=1e-3)
    assert scenes.has_unlabelled_hand(e)  # no pseudo-label record: the box is a missed hand


def test_malformed_voc_names_the_file(scene_root):
    bad = scene_root / "webcam_finger_counts" / "valid" / "labels" / "a.xml"
    bad.write_text("<annotation><object>")
    with pytest.raises(DataFormatError, match="a.xml"):
        registry.load_dataset("webcam_finger_counts", "valid", scene_root)


def test_scene_labels_and_licences():
    assert scenes.map_scene_label("webcam_finger_counts", "3-hand") == "3"
    assert scenes.map_scene_label("closeup_finger_counts", "five") == "5"
    assert scenes.map_scene_label("webcam_signs", "I Love you") == "i_love_you"
    assert scenes.map_scene_label("webcam_signs", "thank you") == "thanks"
    assert not catalog.DATASET_INFO["asl_signers_studio"].shippable
    assert "asl_signers_studio" not in catalog.shippable_datasets()
    assert {"webcam_finger_counts", "webcam_signs", "ksl_signers", "driver_cam"} <= set(catalog.shippable_datasets())


def test_scene_counts_found_and_false():
    human = np.array([[0, 0, 50, 50], [100, 0, 200, 50]], np.float32)  # the second holds two hands
    pred = np.array([[5, 5, 45, 45],          # on the first box
                     [105, 5, 145, 45],       # one hand of the two-hand box: inside it
                     [300, 300, 340, 340],    # on nothing: false
                     [400, 0, 440, 40]], np.float32)  # on a MediaPipe hand nobody boxed: not false
    c = M.scene_counts(pred, human, ref_boxes=np.array([[398, 0, 442, 42]]))
    assert c == {"humans": 2, "found": 2, "reported": 4, "false": 1}
    assert M.scene_counts(np.zeros((0, 4)), human)["found"] == 0
    assert M.scene_counts(pred[:1], None, None)["false"] == 1  # nothing known: every hand is false
    s = M.scene_summary([c, M.scene_counts(np.zeros((0, 4)), human[:1])])
    assert s["found_rate"] == pytest.approx(2 / 3) and s["false_per_image"] == 0.5
    assert s["images_with_false"] == 0.5
    assert "found_by_size" not in s  # no frame size given


def test_scene_counts_by_hand_size():
    # a 400x300 frame: hands 30 px (small, < 1/8 of 400), 80 px (medium) and 150 px (large)
    human = np.array([[10, 10, 40, 30], [100, 100, 180, 160], [200, 100, 350, 250]], np.float32)
    assert [M.hand_size_class(b, (300, 400)) for b in human] == ["small", "medium", "large"]
    assert M.hand_size_class(human[1], (600, 800)) == "small"  # the same hand in a frame twice as big
    pred = np.array([[12, 12, 38, 28], [210, 110, 340, 240]], np.float32)  # the small and the large one
    c = M.scene_counts(pred, human, frame_hw=(300, 400))
    assert c["found"] == 2 and c["by_size"] == {"small": [1, 1], "medium": [0, 1], "large": [1, 1]}
    c2 = M.scene_counts(np.zeros((0, 4)), human[:1], frame_hw=(300, 400))
    s = M.scene_summary([c, c2])
    assert s["found_by_size"]["small"] == {"humans": 2, "found_rate": 0.5}
    assert s["found_by_size"]["medium"]["found_rate"] == 0.0 and s["found_by_size"]["large"]["found_rate"] == 1.0
    assert M.scene_summary([c2])["found_by_size"]["large"] == {"humans": 0, "found_rate": None}


def _scene_sample(human, kps):
    s = Sample(image=np.zeros((120, 160, 3), np.uint8), keypoints=np.asarray(kps, np.float32).reshape(-1, 21, 3),
               keypoint_source="mediapipe", source="webcam_finger_counts")
    s.boxes = np.array([M_box(k) for k in s.keypoints], np.float32).reshape(-1, 4)
    s.extras["human_boxes"] = None if human is None else np.asarray(human, np.float32)
    s.extras["pseudo_labelled"] = True
    return s


def M_box(k):
    from handsdk.keypoints import keypoints_box

    return keypoints_box(k[:, :2])


def _hd(kp):
    return {"keypoints": np.asarray(kp)[:, :2].tolist(), "handedness": "Right", "score": 0.9}


def test_bench_scene_rows_and_worst_png(tmp_path):
    h1, h2 = _hand(10, 10), _hand(100, 60)
    ss = [_scene_sample([[8, 8, 52, 52], [98, 58, 142, 102]], [h1, h2]), _scene_sample(None, [h1])]
    keys = ["f0", "f1"]
    face = _hand(60, 5, 30)
    sdk = {"f0": [_hd(h1), _hd(face)], "f1": [_hd(h1 + [2, 2, 0])]}
    mp = {"f0": [_hd(h1), _hd(h2)], "f1": [_hd(h1)]}
    (row,) = scene_rows({"webcam_finger_counts": ss}, {"webcam_finger_counts": keys}, sdk, mp)
    assert row["sdk"]["found_rate"] == 0.5 and row["mediapipe"]["found_rate"] == 1.0
    assert row["sdk"]["false_per_image"] == 0.5 and row["mediapipe"]["false_per_image"] == 0.0
    assert row["pass_found"] is False and row["pass_false"] is False
    # both found: h1 in both frames (h2 only by MediaPipe)
    assert row["sdk_keypoints"]["hands"] == 2 and row["mediapipe_keypoints"]["pck@0.2"] == 1.0
    text = format_text({"scenes": [row], "detection": [], "agreement": [], "gestures": [], "latency": [],
                          "keypoints_human": None, "targets": []})
    assert "Camera scenes" in text and "50.0% / 100.0%" in text
    # the 44 px boxes are over 1/4 of the 160 px frames: large hands, one of two found by the SDK
    assert row["sdk"]["found_by_size"]["large"] == {"humans": 2, "found_rate": 0.5}
    assert row["mediapipe"]["found_by_size"]["small"] == {"humans": 0, "found_rate": None}
    assert "by hand size" in text and "2: 50.0% / 100.0%" in text
    png = worst_frames_png({"webcam_finger_counts": ss}, {"webcam_finger_counts": keys}, sdk, mp,
                             tmp_path / "worst.png", n=2)
    img = cv2.imread(str(png))
    assert img is not None and img.shape[1] == 4 * 240  # 2 frames per row, SDK beside MediaPipe


def test_bench_scene_rows_score_a_reshaped_view_against_live_mediapipe():
    """On a set~W:H view the stored pseudo-labels are of the stretched frame:
    MediaPipe run on the view finds other hands, so its live hands are the
    reference (the SDK's hand that MediaPipe also finds is no false hand) and
    MediaPipe's own false hands are not counted."""
    h1, h2 = _hand(10, 10), _hand(100, 60)
    s = _scene_sample(None, [h1])  # the pseudo-labels know h1 only
    s.extras["aspect_view"] = 4 / 3
    sdk = {"f0": [_hd(h1), _hd(h2)]}
    mp = {"f0": [{**_hd(h1), "keypoints": np.c_[h1[:, :2], -np.ones(21)].tolist()}, _hd(h2)]}  # (3rd column: depth)
    (row,) = scene_rows({"x~4:3": [s]}, {"x~4:3": ["f0"]}, sdk, mp)
    assert row["reference"] == "live MediaPipe"
    assert row["sdk"]["false_per_image"] == 0.0 and row["mediapipe"]["false_per_image"] is None
    assert row["sdk_keypoints"]["hands"] == 2 and row["sdk_keypoints"]["pck@0.2"] == 1.0
    (plain,) = scene_rows({"x": [_scene_sample(None, [h1])]}, {"x": ["f0"]}, sdk, mp)
    assert plain["reference"] == "pseudo-labels" and plain["sdk"]["false_per_image"] == 1.0
    assert plain["mediapipe"]["false_per_image"] == 1.0
    (alone,) = scene_rows({"x~4:3": [s]}, {"x~4:3": ["f0"]}, sdk, None)  # no MediaPipe: the pseudo-labels
    assert alone["sdk"]["false_per_image"] == 1.0


def test_mined_boxes_stay_away_from_every_known_hand():
    s = _scene_sample([[100, 0, 150, 50]], [_hand(10, 10)])
    hands = mining.known_hands(s)
    assert len(hands) == 2
    assert mining.is_far([60, 60, 90, 90], hands)
    assert not mining.is_far([45, 10, 80, 40], hands)      # overlaps the pseudo hand a little
    assert not mining.is_far([120, 10, 140, 30], hands)    # inside the human box (MediaPipe missed it)
    assert not mining.is_far([0, 0, 160, 120], hands)      # a box holding a hand
    with pytest.raises(FileNotFoundError, match="mining"):
        mining.load("/nonexistent/hard.json")


def test_mined_files_load_alone_and_as_a_union(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"boxes": {"x.jpg": [[0, 0, 5, 5]]}}))
    b.write_text(json.dumps({"boxes": {"x.jpg": [[9, 9, 15, 15]], "y.jpg": [[1, 1, 2, 2]]}}))
    assert mining.load(str(a)) == {"x.jpg": [[0, 0, 5, 5]]}
    u = mining.load(f"{a},{b}")
    assert u == {"x.jpg": [[0, 0, 5, 5], [9, 9, 15, 15]], "y.jpg": [[1, 1, 2, 2]]}
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not a hard-negative file"):
        mining.load(str(tmp_path / "bad.json"))


def test_detector_pool_zoom_moves_keypoints_with_the_frame():
    rng = np.random.default_rng(0)
    img = np.zeros((120, 160, 3), np.uint8)
    kp = _hand(60, 40)
    img[int(kp[:, 1].min()):int(kp[:, 1].max()), int(kp[:, 0].min()):int(kp[:, 0].max())] = 255
    s = Sample(image=img, keypoints=kp[None], keypoint_source="mediapipe")
    plain = detector_pool([s], 64, 80)
    zoomed = detector_pool([s] * 8, 64, 80, zoom=(0.4, 0.6), zoom_prob=1.0, rng=rng)
    w0 = np.ptp(plain["keypoints"][0, 0, :, 0])
    for i in range(8):
        k = zoomed["keypoints"][i, 0]
        assert 0.35 * w0 < np.ptp(k[:, 0]) < 0.65 * w0  # the hand shrank with the frame
        # the white hand region moved with its keypoints
        x, y = int(np.clip(k[:, 0].mean(), 0, 79)), int(np.clip(k[:, 1].mean(), 0, 63))
        assert zoomed["image"][i, y, x].mean() > 100


def test_pose_pool_hard_negatives_have_presence_zero_and_a_skeleton():
    rng = np.random.default_rng(0)
    img = np.full((120, 160, 3), 60, np.uint8)
    s = Sample(image=img, keypoints=_hand(10, 10)[None], keypoint_source="mediapipe", handedness=["Right"],
               path="/x/f.jpg")
    cfg = SimpleNamespace(align=False, rotation=0.0, box_jitter=0.0, scale_jitter=0.0, crop_scale=1.4,
                          near_negatives=0.0, align_prob=0.0, align_jitter=0.0)
    pool = pose_pool([s] * 10, 32, cfg, rng, negatives=0.0, jitter=False,
                       hard_negatives={"/x/f.jpg": [[100, 60, 140, 100]]})
    assert list(pool["presence"]).count(0.0) == 10 and list(pool["presence"]).count(1.0) == 10
    neg = pool["presence"] == 0
    assert (pool["handedness"][neg] == -1).all()
    # most hard negatives carry a hand's skeleton (the detector fired there); heatmap weights are
    # zero for them because presence is 0
    assert ((pool["keypoints"][neg][..., 2] >= 0).all(axis=1)).sum() >= 5


@pytest.mark.skipif(not catalog.has_data(None, "webcam_finger_counts"), reason="webcam_finger_counts is absent")
def test_real_webcam_finger_counts_valid_sessions():
    ss = registry.load_dataset("webcam_finger_counts", "valid", load_image=False)
    assert len(ss) == 226
    assert all(s.extras["human_boxes"] is not None for s in ss)
    boxed = sum(len(s.extras["human_boxes"]) for s in ss)
    labelled = sum(len(s.keypoints) for s in ss)
    assert boxed > 200 and labelled > 200
    assert {s.label for s in ss} <= {"0", "1", "2", "3", "4", "5"}


def test_far_view_moves_the_image_and_every_coordinate_together():
    from handsdk.train.data.sample import Sample, far_view, split_far

    img = np.full((120, 160, 3), 40, np.uint8)
    img[30:50, 80:100] = (250, 10, 10)  # a red square: where its corners go, the labels must go
    kp = np.zeros((1, 21, 3), np.float32)
    kp[0, :, :2] = [80, 30]
    kp[0, 1:, :2] = [100, 50]
    kp[0, 5, 2] = -1  # not labelled: stays so
    s = Sample(image=img, boxes=np.array([[80, 30, 100, 50]], np.float32), keypoints=kp,
               keypoint_source="mediapipe", source="webcam_finger_counts",
               extras={"human_boxes": np.array([[80, 30, 100, 50]], np.float32), "pseudo_keypoints": kp.copy()})
    f = far_view(s, 0.5)
    assert f.image.shape == img.shape and f.extras["far_view"] == 0.5
    red = np.argwhere((f.image[..., 0] > 150) & (f.image[..., 1] < 60))
    (y0, x0), (y1, x1) = red.min(0), red.max(0) + 1  # the square, half as big, moved to the middle
    np.testing.assert_allclose(f.boxes[0], [x0, y0, x1, y1], atol=1)
    np.testing.assert_allclose(f.extras["human_boxes"][0], f.boxes[0])
    np.testing.assert_allclose(f.keypoints[0, 0, :2], [x0, y0], atol=1)
    np.testing.assert_allclose(f.extras["pseudo_keypoints"][0, 3, :2], [x1, y1], atol=1)
    assert f.keypoints[0, 5, 2] == -1 and s.boxes[0, 0] == 80  # the original is untouched
    assert (f.image[:10, :10] == img.mean((0, 1)).round().astype(np.uint8)).all()  # mean-colour border
    assert M.hand_size_class(f.extras["human_boxes"][0], f.image.shape[:2]) == "small"
    assert M.hand_size_class(s.extras["human_boxes"][0], img.shape[:2]) == "medium"
    assert split_far("webcam_finger_counts:valid@0.4") == ("webcam_finger_counts:valid", 0.4)
    assert split_far("asl_letters") == ("asl_letters", None)
    for bad in ("x@0", "x@1.5", "x@far"):
        with pytest.raises(ValueError, match="shrink factor"):
            split_far(bad)
    with pytest.raises(ValueError, match="in \\(0, 1\\]"):
        far_view(s, 0.0)


def test_aspect_view_widens_the_frame_and_its_labels_and_split_view_reads_both_views():
    from handsdk.train.data.sample import Sample, aspect_view, split_view

    img = np.full((120, 120, 3), 40, np.uint8)
    img[30:50, 60:80] = (250, 10, 10)  # a red square: squeezed in the stored (stretched) frame
    kp = np.zeros((1, 21, 3), np.float32)
    kp[0, :, :2] = [60, 30]
    kp[0, 1:, :2] = [80, 50]
    kp[0, 5, 2] = -1
    s = Sample(image=img, boxes=np.array([[60, 30, 80, 50]], np.float32), keypoints=kp,
               keypoint_source="mediapipe", source="asl_signers_studio",
               extras={"human_boxes": np.array([[60, 30, 80, 50]], np.float32), "pseudo_keypoints": kp.copy()})
    f = aspect_view(s, 4 / 3)
    assert f.image.shape == (120, 160, 3) and f.extras["aspect_view"] == pytest.approx(4 / 3)
    red = np.argwhere((f.image[..., 0] > 150) & (f.image[..., 1] < 60))
    (y0, x0), (y1, x1) = red.min(0), red.max(0) + 1  # wider by 4/3, same height
    np.testing.assert_allclose(f.boxes[0], [x0, y0, x1, y1], atol=1.5)
    np.testing.assert_allclose(f.extras["human_boxes"][0], f.boxes[0])
    np.testing.assert_allclose(f.extras["pseudo_keypoints"][0, 3, :2], [x1, y1], atol=1.5)
    assert f.keypoints[0, 5, 2] == -1 and s.image.shape == (120, 120, 3)
    name, view = split_view("asl_signers_studio~4:3")
    assert name == "asl_signers_studio" and view(s).image.shape == (120, 160, 3)
    name, view = split_view("asl_signers_studio~1.5@0.5")  # widened, then shrunk in its own canvas
    both = view(s)
    assert name == "asl_signers_studio" and both.image.shape == (120, 180, 3) and both.extras["far_view"] == 0.5
    assert split_view("webcam_signs:valid") == ("webcam_signs:valid", None)
    assert split_view("webcam_finger_counts:valid@0.4")[0] == "webcam_finger_counts:valid"
    for bad in ("x~wide", "x~4:0", "x~9"):
        with pytest.raises(ValueError, match="aspect"):
            split_view(bad)
    with pytest.raises(ValueError, match="aspect"):
        aspect_view(s, 0.0)
