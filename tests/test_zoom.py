"""Looking again at big and wide detector boxes: zooming in (a person in
view: hands, face and chest in one skeleton blob; the detector on a region,
the zoomed map in the landmarker's crops), splitting a wide box in two (two
hands side by side in one blob), and the recognizer keeping what the
landmarker prefers."""
from __future__ import annotations

import numpy as np
import pytest

import handsdk
from handsdk import GestureRecognizer, GestureRecognizerOptions
from handsdk.bundle import load_bundle
from handsdk.looking import LookPolicy
from handsdk.stages import Detection, Landmarks
from tests.conftest import red_stroke_frame


def _err(box, truth):
    return float(np.abs(np.asarray(box, np.float64) - np.asarray(truth, np.float64)).max())


def test_a_region_is_seen_at_the_models_full_resolution(bundle_path):
    det = handsdk.HandDetector(bundle_path)
    truth = (200, 150, 260, 230)
    frame = red_stroke_frame(480, 640, truth)
    rgb = frame[:, :, ::-1].copy()
    full = det.detect_rgb(rgb)
    zoomed = det.detect_rgb(rgb, region=LookPolicy.zoom_region(full.boxes[0], rgb.shape, grow=1.6))
    assert len(full.boxes) == 1 and len(zoomed.boxes) == 1
    # boxes in frame pixels either way, on the same stroke
    from handsdk.boxes import box_iou
    assert box_iou(zoomed.boxes[:1], full.boxes[:1])[0, 0] > 0.7
    assert _err(zoomed.boxes[0], truth) < 20
    # the region is seen larger: one map pixel covers fewer frame pixels
    assert abs(zoomed.map_to_frame[0, 0]) < 0.5 * abs(full.map_to_frame[0, 0])
    # a region of the model's aspect elsewhere in the frame holds no hand
    h, w = det.input_hw
    assert len(det.detect_rgb(rgb, region=(400, 250, 400 + 2 * w, 250 + 2 * h)).boxes) == 0
    # its map lands on the frame where the stroke is
    centre = np.array([[230.0, 190.0]])
    to_map = np.linalg.inv(np.vstack([zoomed.map_to_frame, [0, 0, 1]]))[:2]
    x, y = (to_map @ np.array([230.0, 190.0, 1.0])).astype(int)
    assert zoomed.skeleton[y, x] > 0.5, centre
    with pytest.raises(ValueError, match="region"):
        det.detect_rgb(rgb, region=(50, 50, 40, 80))


def test_a_zoomed_map_wins_in_crops_where_it_reaches():
    base = np.zeros((12, 16), np.float32)
    zoom = np.ones((12, 16), np.float32)
    # base map: 1 map px = 10 frame px; the zoomed map covers frame x 40..80, y 0..30
    d = Detection(boxes=np.zeros((0, 4), np.float32), scores=np.zeros(0, np.float32),
                  masses=np.zeros(0, np.float32), skeleton=base,
                  map_to_frame=np.array([[10.0, 0, 0], [0, 10.0, 0]]))
    z = d.with_zoomed(Detection(boxes=d.boxes, scores=d.scores, masses=d.masses, skeleton=zoom,
                                map_to_frame=np.array([[2.5, 0, 40], [0, 2.5, 0]])))
    assert d.zoomed == () and len(z.zoomed) == 1 and z.maps_key != d.maps_key
    # a 20 px crop of the frame x 20..100, y 0..80 (4 frame px per crop px)
    crop = z.skeleton_crop(np.array([[0.25, 0, -5.0], [0, 0.25, 0]]), 20)
    assert crop[2, 10] == pytest.approx(1.0)  # frame (60, 10): inside the zoomed map
    assert crop[2, 2] == 0.0 and crop[15, 10] == 0.0  # frame (30, 10), (60, 62): outside it
    assert d.skeleton_crop(np.array([[0.25, 0, -5.0], [0, 0.25, 0]]), 20).max() == 0.0


def test_zoom_above_is_validated_and_read_from_the_bundle(bundle_path):
    for bad in (-0.1, 1.5, "x", True):
        with pytest.raises(ValueError, match="zoom_above"):
            GestureRecognizerOptions(bundle=bundle_path, zoom_above=bad)
    with pytest.raises(ValueError, match="zoom_above"):
        LookPolicy(zoom_above=2.0)
    bundle = load_bundle(bundle_path)
    assert LookPolicy.from_bundle(bundle).zoom_above == 0.0  # the tiny bundle does not zoom
    assert LookPolicy.from_bundle(bundle, zoom_above=0.3).zoom_above == 0.3
    with GestureRecognizer(GestureRecognizerOptions(bundle=bundle_path, zoom_above=0.3)) as rec:
        assert rec.look.zoom_above == 0.3 and rec.landmarker.look is rec.look  # one policy
    assert LookPolicy.zoom_region((100, 100, 200, 200), (240, 320), grow=1.2) == \
        pytest.approx((90, 90, 210, 210))
    assert LookPolicy.zoom_region((0, 10, 300, 230), (240, 320), grow=1.2) == pytest.approx((0, 0, 320, 240))


def test_a_big_box_is_zoomed_into_only_when_on(bundle_path):
    frame = red_stroke_frame(240, 320, (60, 40, 220, 200))  # the stroke spans 2/3 of the frame
    runs = {}
    for z in (0.0, 0.5, 0.9):
        with GestureRecognizer(GestureRecognizerOptions(bundle=bundle_path, zoom_above=z)) as rec:
            res = rec.recognize(frame)
            runs[z] = rec.detector_runs
            assert len(res.hands) == 1
    assert runs == {0.0: 1, 0.5: 2, 0.9: 1}


class _Fake:
    """Stands in for the detector and landmarker: a big box round two hands
    whose zoomed look finds both; presence from a table by box."""

    def __init__(self, presence):
        self.presence = presence
        big = np.array([[20, 20, 300, 220]], np.float32)
        self.full = Detection(boxes=big, scores=np.array([0.8], np.float32), masses=np.array([90.0], np.float32),
                              skeleton=np.zeros((48, 64), np.float32), map_to_frame=np.array([[5.0, 0, 0], [0, 5.0, 0]]))
        two = np.array([[40, 60, 100, 140], [200, 60, 260, 140]], np.float32)
        self.sub = Detection(boxes=two, scores=np.array([0.9, 0.9], np.float32), masses=np.array([40.0, 35.0], np.float32),
                             skeleton=np.zeros((48, 64), np.float32), map_to_frame=np.array([[2.0, 0, 0], [0, 2.0, 0]]))
        self.calls = []

    def landmark_rgb(self, rgb, box, *, detection=None, prior_keypoints=None, rotation=None):
        self.calls.append((tuple(np.round(box).astype(int)), len(detection.zoomed) if detection else None))
        b = np.asarray(box, np.float64)
        kp = np.zeros((21, 3), np.float32)
        kp[:, 0] = np.linspace(b[0] + 5, b[2] - 5, 21)
        kp[:, 1] = np.linspace(b[1] + 5, b[3] - 5, 21)
        return Landmarks(keypoints=kp, presence=self.presence(b), right_score=0.7,
                         crop_box=b.astype(np.float32))


@pytest.mark.parametrize("prefer", ["small", "big", "sure"])
def test_the_landmarker_decides_between_a_big_box_and_what_the_zoom_finds(bundle_path, prefer, monkeypatch):
    big_presence = {"small": 0.8, "big": 0.9, "sure": 0.995}[prefer]
    fake = _Fake(lambda b: big_presence if (b[2] - b[0]) > 200 else (0.95 if prefer == "small" else 0.85))
    zooms = []
    with GestureRecognizer(GestureRecognizerOptions(bundle=bundle_path, zoom_above=0.4, color_order="RGB")) as rec:
        monkeypatch.setattr(rec.detector, "detect_rgb",
                            lambda rgb, region=None: fake.full if region is None else zooms.append(region) or fake.sub)
        monkeypatch.setattr(rec.landmarker, "landmark_rgb", fake.landmark_rgb)
        res = rec.recognize(np.zeros((240, 320, 3), np.uint8))
        runs = rec.detector_runs
    centres = sorted(round(float(h.keypoints[:, 0].mean())) for h in res.hands)
    # a box the landmarker is sure of (>= 0.99) costs no zoom
    assert (len(zooms), runs) == ((0, 1) if prefer == "sure" else (1, 2))
    if prefer == "small":
        assert centres == [70, 230]  # the two hands, not the blob
        # each was landmarked once, with the zoomed map (the tracker reused the zoom's landmarks)
        assert sorted(c for c in fake.calls if c[0] != (20, 20, 300, 220)) == [((40, 60, 100, 140), 1),
                                                                               ((200, 60, 260, 140), 1)]
    else:
        assert centres == [160]
        assert fake.calls.count(((20, 20, 300, 220), 0)) == 1


def test_the_shipped_bundle_zooms_as_its_detector_config_and_weights_say():
    import json
    from pathlib import Path

    from handsdk.bundle import default_bundle_path, load_bundle

    if default_bundle_path() is None:
        pytest.skip("no default bundle in this install")
    from handsdk.train.config import read_config
    from handsdk.train.release import FINAL, STEPS

    root = Path(__file__).resolve().parents[1]
    run = FINAL["detector"]
    config = next(cfg for _, cfg, name, _ in STEPS if name == run)
    cfg = read_config(root / "train" / "configs" / f"{config}.yaml")  # (its base chain resolved)
    meta = json.loads((root / "train" / "weights" / run / "metadata.json").read_text())
    shipped = load_bundle(default_bundle_path()).models["detector"].decoding
    for k in ("zoom_above", "split_aspect"):
        assert cfg["model"][k] == meta["decoding"][k] == shipped[k] > 0, k
    look = LookPolicy.from_bundle(load_bundle(default_bundle_path()))
    assert (look.zoom_above, look.split_aspect) == (shipped["zoom_above"], shipped["split_aspect"])


def test_split_aspect_is_validated_and_wide_boxes_are_halved(bundle_path):
    for bad in (0.5, -1, 101, "2", False):
        with pytest.raises(ValueError, match="split_aspect"):
            GestureRecognizerOptions(bundle=bundle_path, split_aspect=bad)
    with pytest.raises(ValueError, match="split_aspect"):
        LookPolicy(split_aspect=0.9)
    d = LookPolicy.from_bundle(load_bundle(bundle_path), split_aspect=1.5)
    off = LookPolicy.from_bundle(load_bundle(bundle_path))
    assert off.split_aspect == 0.0 and not off.is_wide((0, 0, 300, 10))
    assert d.is_wide((10, 10, 160, 110)) and not d.is_wide((10, 10, 150, 110))
    left, right = d.halves((10, 20, 170, 100))
    assert left.tolist() == [10, 20, 90, 100] and right.tolist() == [90, 20, 170, 100]


class _FakeWide(_Fake):
    """A wide blob round two hands side by side (no zoom: it is small in the frame)."""

    def __init__(self, presence):
        super().__init__(presence)
        wide = np.array([[100, 100, 220, 160]], np.float32)
        self.full = Detection(boxes=wide, scores=np.array([0.8], np.float32), masses=np.array([60.0], np.float32),
                              skeleton=np.zeros((48, 64), np.float32), map_to_frame=np.array([[5.0, 0, 0], [0, 5.0, 0]]))


@pytest.mark.parametrize("case", ["rejected", "passes", "off"])
def test_a_rejected_wide_box_gives_way_to_its_halves_when_the_landmarker_prefers_them(bundle_path, case, monkeypatch):
    # (one that passes the presence threshold stays whole: the tracker would join its halves again)
    wide_presence = 0.8 if case == "passes" else 0.5
    fake = _FakeWide(lambda b: wide_presence if (b[2] - b[0]) > 100 else 0.9)
    opts = GestureRecognizerOptions(bundle=bundle_path, zoom_above=0.4, split_aspect=0 if case == "off" else 1.5,
                                    color_order="RGB", min_presence_score=0.75)
    with GestureRecognizer(opts) as rec:
        monkeypatch.setattr(rec.detector, "detect_rgb", lambda rgb, region=None: fake.full if region is None
                            else pytest.fail("a small box is not zoomed into"))
        monkeypatch.setattr(rec.landmarker, "landmark_rgb", fake.landmark_rgb)
        res = rec.recognize(np.zeros((480, 640, 3), np.uint8))
    centres = sorted(round(float(h.keypoints[:, 0].mean())) for h in res.hands)
    # off: the wide box alone, which the landmarker rejects
    assert centres == {"rejected": [130, 190], "passes": [160], "off": []}[case]
