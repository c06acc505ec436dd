"""Real-data readers: tiny generated folders (always) and ../shared/data (when present)."""
from __future__ import annotations

import json

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from handsdk.train.data import catalog, formats, real, registry  # noqa: E402
from handsdk.train.data.formats import DataFormatError  # noqa: E402

HAS_DATA = catalog.has_data()
needs_data = pytest.mark.skipif(not HAS_DATA, reason="no real-data root (../shared/data or $HANDSDK_DATA)")


def _img(path, h=40, w=60, color=(10, 20, 30)):
    path.parent.mkdir(parents=True, exist_ok=True)
    im = np.zeros((h, w, 3), np.uint8)
    im[:] = color
    assert cv2.imwrite(str(path), im)
    return path


def _hand(x0=10.0, y0=5.0, step=1.0):
    return [[x0 + i * step, y0 + i * 0.5 * step, -0.1 * i] for i in range(21)]


# ---------------------------------------------------------------- data root


def test_data_root_argument_and_env(tmp_path, monkeypatch):
    assert catalog.data_root(tmp_path) == tmp_path
    with pytest.raises(FileNotFoundError, match="does not exist"):
        catalog.data_root(tmp_path / "nope")
    monkeypatch.setenv("HANDSDK_DATA", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="HANDSDK_DATA"):
        catalog.data_root()
    monkeypatch.setenv("HANDSDK_DATA", str(tmp_path))
    assert catalog.data_root() == tmp_path
    assert registry.list_datasets() == {n: False for n in registry.DATASETS}
    with pytest.raises(FileNotFoundError, match="asl_letters"):
        registry.load_dataset("asl_letters")


def test_data_root_missing_everywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("HANDSDK_DATA", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(catalog, "_repo_root", lambda: tmp_path / "repo")
    with pytest.raises(FileNotFoundError, match="HANDSDK_DATA"):
        catalog.data_root()
    assert not catalog.has_data()


def test_licences():
    info = catalog.DATASET_INFO
    assert set(info) == set(registry.DATASETS)
    assert info["asl_letters"].licence == "Public Domain" and info["asl_letters"].shippable
    assert info["sign_language_digits"].licence == "Apache-2.0" and info["sign_language_digits"].shippable
    assert info["gesture_keypoints_csv"].shippable
    assert info["asl_alphabet_subset"].licence == "GPL-2.0" and not info["asl_alphabet_subset"].shippable
    assert not info["asl_two_signers"].shippable and not info["hand_keypoints_gt"].shippable
    assert set(catalog.shippable_datasets()) == {
        "asl_letters", "sign_language_digits", "gesture_keypoints_csv",
        # camera scenes and close-ups (Apache-2.0, MIT, CC BY 4.0)
        "webcam_finger_counts", "webcam_signs", "ksl_signers", "isl_phone", "closeup_finger_counts",
        "closeup_open_hands", "selfie_people", "driver_cam"}
    assert not info["asl_signers_studio"].shippable  # doubtful licence: validation only
    assert info["webcam_signs"].licence == "MIT" and info["ksl_signers"].licence == "CC BY 4.0"


def test_the_data_modules_import_one_way():
    """formats <- catalog <- real, scenes <- registry: a reader never imports
    the registry (no cycle), and the registry lists the sets in the table's order."""
    import subprocess
    import sys

    code = ("import sys, handsdk.train.data.real, handsdk.train.data.scenes\n"
            "print(sorted(m for m in sys.modules if m.startswith('handsdk.train.data.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["['handsdk.train.data.catalog',", "'handsdk.train.data.formats',",
                                  "'handsdk.train.data.real',", "'handsdk.train.data.sample',",
                                  "'handsdk.train.data.scenes']"]
    assert list(registry.DATASETS) == list(catalog.DATASET_INFO)
    assert {"finger_counts", "signs"} <= set(catalog.LABEL_SETS)


def test_unknown_dataset():
    with pytest.raises(KeyError, match="unknown dataset"):
        registry.load_dataset("no_such_set")


# ---------------------------------------------------------------- YOLO


def _yolo_set(tmp_path):
    base = tmp_path / "yolo"
    (base / "data.yaml").parent.mkdir(parents=True)
    (base / "data.yaml").write_text("nc: 3\nnames: ['a', 'b', 'c']\n")
    _img(base / "train/images/x1.jpg", 40, 60)
    (base / "train/labels").mkdir(parents=True)
    (base / "train/labels/x1.txt").write_text("1 0.5 0.25 0.5 0.5\n")
    return base


def test_yolo_boxes_in_pixels(tmp_path):
    base = _yolo_set(tmp_path)
    names = formats.read_names_yaml(base / "data.yaml")
    (s,) = list(formats.read_yolo(base, "train", names=names, label_map=str.upper))
    assert s.label == "B"
    # cx=30, cy=10, w=30, h=20 px on a 60x40 image
    np.testing.assert_allclose(s.boxes, [[15, 0, 45, 20]], atol=1e-4)
    assert s.image.shape == (40, 60, 3) and s.image.dtype == np.uint8
    assert tuple(s.image[0, 0]) == (30, 20, 10)  # written BGR (10,20,30) -> RGB


def test_yolo_pseudo_labels_keep_boxes(tmp_path):
    base = _yolo_set(tmp_path)
    kp = [[20 + i, 2 + 0.5 * i, 0] for i in range(21)]
    rec = {"image": "train/images/x1.jpg", "width": 60, "height": 40,
           "hands": [{"keypoints": kp, "handedness": "Left", "handedness_score": 0.9}]}
    (base / formats.PSEUDO_LABEL_FILE).write_text(json.dumps(rec) + "\n")
    pseudo = formats.read_pseudo_labels(base / formats.PSEUDO_LABEL_FILE)
    (s,) = list(formats.read_yolo(base, "train", names=["a", "b", "c"], pseudo=pseudo, load_image=False))
    np.testing.assert_allclose(s.boxes, [[15, 0, 45, 20]], atol=1e-4)  # the YOLO box, not the keypoints'
    assert s.keypoint_source == "mediapipe" and s.handedness == ["Left"]
    np.testing.assert_allclose(s.keypoints[0, :, :2], np.asarray(kp)[:, :2])
    assert (s.keypoints[0, :, 2] == 1).all()


def test_yolo_malformed_label_names_file_and_line(tmp_path):
    base = _yolo_set(tmp_path)
    (base / "train/labels/x1.txt").write_text("1 0.5 0.5 0.2 0.2\n7 0.5 0.5 0.2\n")
    with pytest.raises(DataFormatError, match=r"x1\.txt:2"):
        list(formats.read_yolo(base, "train", names=["a", "b", "c"]))


def test_yolo_missing_split(tmp_path):
    base = _yolo_set(tmp_path)
    with pytest.raises(FileNotFoundError, match="valid"):
        list(formats.read_yolo(base, "valid", names=["a"]))


# ---------------------------------------------------------------- class folders + pseudo-labels


def test_user_folder_with_pseudo_labels(tmp_path):
    base = tmp_path / "mine"
    _img(base / "Thumbs Up/a.png", 40, 40)
    _img(base / "Thumbs Up/b.JPG", 40, 40)
    _img(base / "wave/c.jpeg", 40, 40)
    (base / "wave/notes.txt").write_text("not an image")
    # the jsonl says 80x80, the image is 40x40: keypoints are rescaled
    rec = {"image": "wave/c.jpeg", "width": 80, "height": 80,
           "hands": [{"keypoints": _hand(20, 10, 2), "handedness": "Right", "handedness_score": 0.8}]}
    (base / formats.PSEUDO_LABEL_FILE).write_text(json.dumps(rec) + "\n")
    ss = registry.load_dataset(str(base))
    assert [s.label for s in ss] == ["thumbs_up", "thumbs_up", "wave"]
    assert all(s.label_set == "custom" for s in ss)
    wave = ss[2]
    assert wave.keypoint_source == "mediapipe" and wave.handedness == ["Right"]
    np.testing.assert_allclose(wave.keypoints[0, 0, :2], [10, 5])
    np.testing.assert_allclose(wave.boxes[0], [10, 5, 30, 15])  # box from the keypoints
    np.testing.assert_allclose(wave.extras["keypoints_z"][0, :3], [0, -0.1, -0.2], atol=1e-6)
    assert ss[0].keypoint_source == "none" and ss[0].num_hands == 0


def test_empty_class_folder_root(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no class sub-folders"):
        formats.read_image_folder(tmp_path / "empty")


def test_corrupt_image_names_file(tmp_path):
    p = tmp_path / "cls" / "bad.jpg"
    p.parent.mkdir()
    p.write_bytes(b"not a jpeg")
    with pytest.raises(DataFormatError, match="bad.jpg"):
        formats.read_image_folder(tmp_path)
    # lazy loading defers the error to ensure_image
    (s,) = formats.read_image_folder(tmp_path, load_image=False)
    with pytest.raises(DataFormatError, match="bad.jpg"):
        formats.ensure_image(s)


def test_malformed_jsonl_names_line(tmp_path):
    p = tmp_path / formats.PSEUDO_LABEL_FILE
    good = {"image": "a.jpg", "width": 10, "height": 10, "hands": []}
    bad = {"image": "b.jpg", "width": 10, "height": 10, "hands": [{"keypoints": [[0, 0, 0]] * 20}]}
    p.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n")
    with pytest.raises(DataFormatError, match=r"mediapipe_landmarks\.jsonl:3"):
        formats.read_pseudo_labels(p)
    p.write_text(json.dumps(good) + "\n{not json\n")
    with pytest.raises(DataFormatError, match=":2"):
        formats.read_pseudo_labels(p)


def test_duplicate_pseudo_hand_dropped(tmp_path):
    _img(tmp_path / "c/a.jpg", 60, 60)
    h1 = _hand(10, 10, 2)
    h2 = [[x + 1, y + 1, z] for x, y, z in h1]
    rec = {"image": "c/a.jpg", "width": 60, "height": 60,
           "hands": [{"keypoints": h1, "handedness": "Left"}, {"keypoints": h2, "handedness": "Right"}]}
    (tmp_path / formats.PSEUDO_LABEL_FILE).write_text(json.dumps(rec))
    (s,) = formats.read_image_folder(tmp_path)
    assert s.num_hands == 1 and s.handedness == ["Left"]


# ---------------------------------------------------------------- COCO


def test_coco_keypoints_visibility_and_order(tmp_path):
    _img(tmp_path / "im.jpg", 50, 50)
    kp = np.zeros((21, 3))
    kp[:, 0] = np.arange(21) + 5
    kp[:, 1] = 7
    kp[:, 2] = 1
    kp[3] = (0, 0, 0)  # not labelled
    d = {"images": [{"id": 1, "file_name": "im.jpg", "width": 50, "height": 50}],
         "annotations": [{"image_id": 1, "id": 3, "bbox": [0, 0, 10, 10], "keypoints": kp.reshape(-1).tolist(),
                          "hand_type": "left"}]}
    (tmp_path / "a.json").write_text(json.dumps(d))
    (s,) = formats.read_coco_keypoints(tmp_path / "a.json")
    assert s.keypoint_source == "human" and s.handedness == ["Left"]
    assert s.keypoints[0, 3, 2] == -1 and s.keypoints[0, 4, 2] == 1
    np.testing.assert_allclose(s.boxes[0], [5, 7, 25, 7])  # visible keypoints only
    # a file in tips-first order is re-ordered to MediaPipe's
    (r,) = formats.read_coco_keypoints(tmp_path / "a.json", order=real.RHD_ORDER)
    assert r.keypoints[0, 1, 0] == kp[4, 0] and r.keypoints[0, 4, 0] == kp[1, 0]


def test_coco_malformed(tmp_path):
    (tmp_path / "a.json").write_text("{broken")
    with pytest.raises(DataFormatError, match="a.json"):
        formats.read_coco_keypoints(tmp_path / "a.json")
    d = {"images": [{"id": 1, "file_name": "im.jpg", "width": 5, "height": 5}],
         "annotations": [{"image_id": 1, "keypoints": [1, 2, 3]}]}
    (tmp_path / "b.json").write_text(json.dumps(d))
    with pytest.raises(DataFormatError, match="annotation #0"):
        formats.read_coco_keypoints(tmp_path / "b.json")
    with pytest.raises(FileNotFoundError, match="c.json"):
        formats.read_coco_keypoints(tmp_path / "c.json")


# ---------------------------------------------------------------- landmark CSV


def _row(cid, seed=0):
    xy = np.random.default_rng(seed).uniform(-1, 1, 42)
    xy[:2] = 0
    return ",".join([str(cid)] + [f"{v:.4f}" for v in xy])


def test_landmark_csv(tmp_path):
    p = tmp_path / "keypoint.csv"
    p.write_text("\n".join([_row(0), _row(1, 1), "", _row(2, 2)]) + "\n")
    ss = formats.read_landmark_csv(p, ["Open", "Close", "Pointer"], author="me", label_set="x")
    assert [s.label for s in ss] == ["Open", "Close", "Pointer"]
    assert all(s.image is None and s.extras["author"] == "me" for s in ss)
    assert ss[2].path.endswith("keypoint.csv:4")
    assert ss[0].keypoints.shape == (1, 21, 3)


def test_landmark_csv_bad_rows(tmp_path):
    p = tmp_path / "keypoint.csv"
    p.write_text(_row(0) + "\n" + _row(1) + ",0.5\n" + "x," + _row(0).split(",", 1)[1] + "\n")
    with pytest.raises(DataFormatError, match=r"keypoint\.csv:2: .*44 fields"):
        formats.read_landmark_csv(p)
    with pytest.warns(UserWarning, match=r"keypoint\.csv:3"):
        ss = formats.read_landmark_csv(p, on_bad_row="warn")
    assert len(ss) == 1
    with pytest.raises(DataFormatError, match="no entry in the label file"):
        formats.read_landmark_csv(_write(tmp_path / "k2.csv", _row(5)), ["only"])


def _write(p, text):
    p.write_text(text + "\n")
    return p


def test_csv_label_maps():
    lset, m = real.csv_label_map("Kazuhito00", ["\ufeffOpen", "Close", "Pointer"])
    assert lset == "commands" and [m[i] for i in range(3)] == ["open_palm", "fist", "point"]
    lset, m = real.csv_label_map("kinivi", ["Open", "Close", "Pointer", "OK"])
    assert m[3] == "ok"
    lset, m = real.csv_label_map("zoo_sanghabahn", ["STOP", "Go", "Back", "STOP", "Jump"])
    assert lset == "csv_sanghabahn" and m[0] == "stop" and m[3] == "stop_3" and m[4] == "jump"
    lset, m = real.csv_label_map("gabesf", ["Dar a Pata"], ids=[0, 1])
    assert m == {0: "dar_a_pata", 1: "class_1"}
    assert real.csv_label_map("DiaboloKiat", list("0123456789ab"))[0] == "number_signs"


def test_holdout_selectors():
    from handsdk.train.data.sample import Sample

    ss = [Sample(image=None, extras={"author": a}, path=f"p{i}") for i, a in enumerate("aabbc")]
    kept, held = registry.holdout_author(ss, "b")
    assert [s.extras["author"] for s in held] == ["b", "b"] and len(kept) == 3
    kept, held = registry.holdout_author(ss, ["a", "c"])
    assert len(held) == 3
    k1, h1 = registry.holdout_fraction(ss * 20, 0.3)
    k2, h2 = registry.holdout_fraction(ss * 20, 0.3)
    assert [s.path for s in h1] == [s.path for s in h2]


# ---------------------------------------------------------------- the real sets


@needs_data
def test_real_asl_letters_valid():
    ss = registry.load_dataset("asl_letters", "valid", load_image=False)
    assert len(ss) == 144
    assert {s.label for s in ss} <= set(catalog.LABEL_SETS["asl_letters"])
    assert all(s.label_set == "asl_letters" and len(s.boxes) >= 1 for s in ss)
    with_kp = [s for s in ss if s.keypoint_source == "mediapipe"]
    assert len(with_kp) > 100
    # the MediaPipe keypoints lie in (or near) the human YOLO box
    inside = []
    for s in with_kp:
        b, k = s.boxes[0], s.keypoints[0, :, :2]
        pad = 0.15 * (b[2] - b[0])
        inside.append(np.mean((k[:, 0] > b[0] - pad) & (k[:, 0] < b[2] + pad)
                              & (k[:, 1] > b[1] - pad) & (k[:, 1] < b[3] + pad)))
    assert np.mean(inside) > 0.95


@needs_data
def test_real_image_sizes_match_pseudo_labels():
    ss = registry.load_dataset("sign_language_digits", "valid")[:20]
    for s in ss:
        assert s.image.shape[:2] == (100, 100)
        if s.num_hands:
            assert (s.keypoints[..., 0] >= -5).all() and (s.keypoints[..., 0] <= 105).all()


@needs_data
def test_real_hand_keypoints_gt_in_mediapipe_order():
    ss = registry.load_dataset("hand_keypoints_gt", load_image=False)
    assert {s.extras["split"] for s in ss} == set(catalog.DATASET_INFO["hand_keypoints_gt"].splits)
    # in every subset, each finger's second joint (PIP) is farther from the wrist than
    # its base (MCP); a tips-first order (RHD, InterHand files) fails this
    for sub in ("freihand", "rhd", "interhand2.6m", "panoptic", "coco"):
        ok = []
        for s in ss:
            if s.extras["split"] != sub:
                continue
            for k in s.keypoints:
                if (k[:, 2] > 0).all():
                    d = np.linalg.norm(k[:, :2] - k[0, :2], axis=1)
                    ok += [d[4 * f + 2] > d[4 * f + 1] for f in range(1, 5)]
        assert ok and np.mean(ok) > 0.75, sub


@needs_data
def test_real_gesture_csv_authors_and_labels():
    with pytest.warns(UserWarning, match="zoo_gabesf"):
        ss = registry.load_dataset("gesture_keypoints_csv")
    by = {}
    for s in ss:
        by.setdefault(s.extras["author"], set()).add((s.label_set, s.label))
    assert {l for _, l in by["kinivi"]} == {"ok"}  # the rest duplicates Kazuhito00
    assert {l for _, l in by["Kazuhito00"]} == {"open_palm", "fist", "point"}
    assert {ls for ls, _ in by["DiaboloKiat"]} == {"number_signs"}
    kept, held = registry.holdout_author(ss, "AladdinT")
    assert len(held) == 2539 and all(s.extras["author"] != "AladdinT" for s in kept)
    only = registry.load_dataset("gesture_keypoints_csv", "Kazuhito00")
    assert len(only) == 4450


@needs_data
def test_real_other_sets_small_checks():
    ss = registry.load_dataset("asl_alphabet_subset", "test", load_image=False)
    assert len(ss) == 29
    assert {s.label for s in ss if s.label_set == "asl_alphabet_extra"} == {"del", "nothing", "space"}
    two = registry.load_dataset("asl_two_signers", load_image=False)
    assert {s.label for s in two} <= set(catalog.LABEL_SETS["asl_letters"]) - {"J", "Z"}
    assert all(s.extras["signer"] == "jack" for s in two)
    tr = {s.path for s in registry.load_dataset("sign_language_digits", "train", load_image=False)}
    va = {s.path for s in registry.load_dataset("sign_language_digits", "valid", load_image=False)}
    assert tr and va and not (tr & va)
