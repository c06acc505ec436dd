"""The detector's anchors (issue 27.1): where each hand's wrist and palm top
are, so that a new hand's first and only landmarker crop is upright. The
targets peak where the keypoints say, the decoding reads the angle the
keypoints give, a converted detector with anchors makes the runtime run the
landmarker once, at that angle, and the training metric counts a wrong angle."""
import math

import numpy as np
import pytest

from handsdk.decode import anchor_rotation
from handsdk.keypoints import angle_error_deg, hand_rotation, palm_top, rotation_from_points


def _hand(angle_deg, centre=(40.0, 30.0), length=12.0):
    """21 keypoints of a straight hand: wrist at the centre, fingers along
    ``angle_deg`` (image coordinates: 0 points right, 90 down)."""
    a = math.radians(angle_deg)
    d = np.array([math.cos(a), math.sin(a)])
    n = np.array([-d[1], d[0]])
    kp = np.zeros((21, 3), np.float32)
    kp[0, :2] = centre
    for f in range(5):
        base = np.array(centre) + d * length * 0.6 + n * (f - 2) * 2.0
        for j in range(4):
            kp[1 + 4 * f + j, :2] = base + d * j * length * 0.2
    return kp


def _gauss(h, w, pts, sigma=1.5):
    ys, xs = np.mgrid[0:h, 0:w] + 0.5
    return np.stack([np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2)) for x, y in pts], -1)


@pytest.mark.parametrize("angle", [-90, 0, 45, 135, 180])
def test_anchor_rotation_reads_the_angle_the_keypoints_give(angle):
    kp = _hand(angle)
    maps = _gauss(60, 80, [kp[0, :2], palm_top(kp)])
    r = anchor_rotation(maps, (25, 15, 55, 45))
    assert r is not None and angle_error_deg(r, hand_rotation(kp)) < 3
    assert hand_rotation(kp) == pytest.approx(rotation_from_points(kp[0, :2], palm_top(kp)))
    # a weak peak, or a box away from the hand, gives no angle
    assert anchor_rotation(maps * 0.2, (25, 15, 55, 45)) is None
    assert anchor_rotation(maps, (70, 50, 80, 60)) is None


def test_anchor_targets_peak_at_each_hands_wrist_and_palm_top():
    import tensorflow as tf  # noqa: F401

    from handsdk.train.models.targets import anchor_targets_tf

    a, b = _hand(0, (20, 20)), _hand(90, (60, 24))
    kps = np.stack([a, b, np.full((21, 3), -1, np.float32)])
    t = np.asarray(anchor_targets_tf(kps, 48, 96, 2, 1.5))
    assert t.shape == (24, 48, 2) and t.max() <= 1.0 + 1e-6
    for kp in (a, b):
        for ch, (x, y) in enumerate([kp[0, :2], palm_top(kp)]):
            assert t[int(y / 2), int(x / 2), ch] > 0.7
    # decoding the targets gives each hand's angle back
    for kp, box in ((a, (5, 5, 40, 35)), (b, (45, 10, 75, 45))):
        r = anchor_rotation(t, np.array(box) / 2)
        assert angle_error_deg(r, hand_rotation(kp)) < 5


def _anchor_detector(size=64):
    """A detector whose skeleton is the red channel and whose anchors are the
    blue (wrist) and magenta (palm top) pixels, at half resolution."""
    from handsdk.train.config import DetectorModelConfig
    from handsdk.train.models.detector.model import detector_metadata
    from handsdk.train.tf import keras

    L = keras.layers
    x = keras.Input((size, size, 3), name="image")
    skel = L.Conv2D(1, 1, activation="sigmoid", name="skeleton")(x)
    anchors = L.Conv2D(2, 1, activation="sigmoid", name="anchors")(L.AveragePooling2D(2)(x))
    m = keras.Model(x, {"skeleton": skel, "anchors": anchors})
    m.get_layer("skeleton").set_weights([np.array([12, -12, -12], np.float32).reshape(1, 1, 3, 1),
                                         np.array([-4], np.float32)])
    m.get_layer("anchors").set_weights([np.array([[-12, 12], [-12, -12], [12, 12]], np.float32).reshape(1, 1, 3, 2),
                                        np.array([-4, -16], np.float32)])
    cfg = DetectorModelConfig(input_height=size, input_width=size, anchors=True)
    return m, detector_metadata(m, cfg)


def _frame(angle_deg):
    """BGR: a red hand stroke from a blue wrist to a magenta palm top."""
    import cv2

    img = np.full((240, 240, 3), 30, np.uint8)
    a = math.radians(angle_deg)
    c = np.array([120.0, 120.0])
    wrist, top = c - 40 * np.array([math.cos(a), math.sin(a)]), c + 40 * np.array([math.cos(a), math.sin(a)])
    cv2.line(img, tuple(int(v) for v in wrist), tuple(int(v) for v in top), (0, 0, 255), 12)
    cv2.circle(img, tuple(int(v) for v in wrist), 8, (255, 0, 0), -1)
    cv2.circle(img, tuple(int(v) for v in top), 8, (255, 0, 255), -1)
    return img, rotation_from_points(wrist, top)


@pytest.mark.parametrize("angle", [0, 120])
def test_a_converted_detector_with_anchors_gives_one_upright_landmarker_pass(angle, tiny_tflite):
    import handsdk
    from handsdk.bundle import GestureSet, build_bundle
    from handsdk.convert.api import Trained, convert_model

    model, meta = _anchor_detector()
    data, _ = convert_model(Trained("detector", model, meta, "mem"), "fp32", None, progress=lambda m: None)
    bundle = build_bundle(detector=data, landmarker=tiny_tflite["landmarker"],
                          gestures={"commands": GestureSet(tiny_tflite["commands"], ("none", "open_palm", "fist"))},
                          detector_decoding={**meta["decoding"], "min_mass": 3.0, "min_size_frac": 0.05},
                          landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4, "align": True},
                          thresholds={"min_presence_score": 0.0})
    det = handsdk.HandDetector(bundle)
    assert det.reads_anchors
    frame, truth = _frame(angle)
    d = det.detect(frame)
    assert len(d.boxes) == 1 and d.anchors is not None and d.anchors.shape == (32, 32, 2)
    r = d.box_rotation(d.boxes[0])
    assert r is not None and angle_error_deg(r, truth) < 15, (math.degrees(r), math.degrees(truth))
    lm = handsdk.HandLandmarker(bundle)
    calls = []
    run = lm.landmark_crop

    def spy(rgb, box, **kw):
        calls.append(kw["rotation"])
        return run(rgb, box, **kw)

    lm.landmark_crop = spy
    lm.landmark(frame, d.boxes[0], detection=d)
    assert calls == [pytest.approx(r)]  # one pass, at the detector's angle
    calls.clear()
    lm.landmark(frame, d.boxes[0])  # no detection: the two passes as before
    assert len(calls) == 2 and calls[0] == 0.0


def test_the_angle_metric_counts_hands_within_30_degrees():
    from handsdk.train.models.detector.evaluate import angle_metrics

    a, b = _hand(0, (20, 20)), _hand(90, (60, 24))
    kps = np.stack([a, b])[None]
    from handsdk.keypoints import keypoints_box

    boxes = [np.stack([keypoints_box(k[:, :2]) + np.array([-2, -2, 2, 2]) for k in (a, b)])]
    both = np.maximum(_gauss(48, 96, [a[0, :2], palm_top(a)]), _gauss(48, 96, [b[0, :2], palm_top(b)]))
    m = angle_metrics(both[None], boxes, kps, (48, 96))
    assert m["angle_ok30"] == 1.0 and m["angle_read"] == 1.0 and m["angle_hands"] == 2
    # the second hand's peaks swapped: it reads 180 degrees off
    swapped = np.maximum(_gauss(48, 96, [a[0, :2], palm_top(a)]), _gauss(48, 96, [palm_top(b), b[0, :2]]))
    m = angle_metrics(swapped[None], boxes, kps, (48, 96))
    assert m["angle_ok30"] == 0.5 and m["angle_err_deg"] > 80
    m = angle_metrics(np.zeros((1, 48, 96, 2)), boxes, kps, (48, 96))
    assert m["angle_read"] == 0.0 and m["angle_ok30"] == 0.0


def test_a_detector_with_anchors_builds_trains_and_describes_them():
    from handsdk.train.config import config_from_dict
    from handsdk.train.models import build_model
    from handsdk.train.models.detector.examples import train_example
    from handsdk.train.trainer import compile_model

    cfg = config_from_dict({"task": "detector", "model": {"input_height": 32, "input_width": 48,
                                                          "filters": [4, 8], "anchors": True}})
    m = build_model(cfg)
    assert m.output_shape["anchors"] == (None, 16, 24, 2) and m.output_shape["skeleton"] == (None, 32, 48, 1)
    compile_model(m, cfg, 4)
    ex = {"image": np.zeros((32, 48, 3), np.uint8),
          "keypoints": np.stack([_hand(0, (10, 16), 8), np.full((21, 3), -1, np.float32)])}
    x, y = train_example(cfg, ex, False)
    assert y["anchors"].shape == (16, 24, 4)
    batch = ({k: np.asarray(v)[None] for k, v in x.items()}, {k: np.asarray(v)[None] for k, v in y.items()})
    first = m.train_on_batch(*batch, return_dict=True)["anchors_loss"]
    for _ in range(20):
        last = m.train_on_batch(*batch, return_dict=True)["anchors_loss"]
    assert last < first
    from handsdk.train.models.detector.model import detector_metadata

    meta = detector_metadata(m, cfg)
    assert meta["outputs"]["anchors"]["shape"] == [1, 16, 24, 2]
    assert meta["decoding"]["anchors"] == ["wrist", "palm_top"]
    with pytest.raises(Exception, match="anchor"):
        config_from_dict({"task": "detector", "model": {"anchors": True, "anchor_sigma": 0}})


def test_crop_angles_tool_reports_one_upright_pass_with_anchors(tiny_tflite, tmp_path):
    from handsdk.bundle import GestureSet, build_bundle
    from handsdk.convert.api import Trained, convert_model
    from handsdk.tools.crop_angles import crop_angles
    from handsdk.train.data.sample import Sample
    from tests.test_align import upright_bundle

    model, meta = _anchor_detector()
    data, _ = convert_model(Trained("detector", model, meta, "mem"), "fp32", None, progress=lambda m: None)
    with_anchors = build_bundle(
        detector=data, landmarker=tiny_tflite["landmarker"],
        gestures={"commands": GestureSet(tiny_tflite["commands"], ("none", "open_palm", "fist"))},
        detector_decoding={**meta["decoding"], "min_mass": 3.0, "min_size_frac": 0.05},
        landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4, "align": True},
        thresholds={"min_presence_score": 0.0})
    samples = []
    for angle in (0, 60, 150):
        bgr, truth = _frame(angle)
        wrist = np.array([120.0, 120.0]) - 40 * np.array([math.cos(math.radians(angle)), math.sin(math.radians(angle))])
        kp = _hand(angle, tuple(wrist), 80 / 0.6)
        kp[:, 2] = 0
        kp[[0, 5, 9, 13], 2] = 1  # the wrist and the knuckles are what the human marked
        samples.append(Sample(image=bgr[..., ::-1].copy(), keypoints=kp[None], keypoint_source="human"))
    r = crop_angles(with_anchors, samples, min_iou=0.1)
    assert r["reads_anchors"] and r["hands"] == 3 and r["passes"] == 1.0 and r["off30"] == 0.0, r
    # the tiny upright bundle (no anchors) takes two passes per new hand
    r2 = crop_angles(upright_bundle(tiny_tflite), samples, min_iou=0.1)
    assert not r2["reads_anchors"] and r2["passes"] == 2.0, r2


def test_the_detectors_upright_crop_fits_the_hands_skeleton_at_the_anchors_angle():
    """A hand at 45 degrees: the crop of its axis-aligned box would be about
    1.4x too large; the box from its skeleton pixels at the anchors' angle is
    the bar's length by its thickness, as the second pass's would be."""
    import cv2

    from handsdk.looking import LookPolicy
    from handsdk.stages import Detection

    skel = np.zeros((100, 100), np.float32)
    cv2.line(skel, (30, 70), (70, 30), 1.0, 6)  # wrist at (30, 70), fingers up and right
    wrist, top = (30, 70), (60, 40)
    anchors = _gauss(50, 50, [(wrist[0] / 2, wrist[1] / 2), (top[0] / 2, top[1] / 2)])
    d = Detection(boxes=np.array([[25, 25, 75, 75]], np.float32), scores=np.ones(1, np.float32),
                  masses=np.ones(1, np.float32), skeleton=skel, map_to_frame=np.array([[2.0, 0, 0], [0, 2.0, 0]]),
                  anchors=anchors)
    box, rot = LookPolicy.detector_crop(d, np.array([50, 50, 150, 150]))  # frame pixels = 2x the map's
    assert angle_error_deg(rot, rotation_from_points(wrist, top)) < 3
    w, h = box[2] - box[0], box[3] - box[1]
    assert 100 < h < 125 and 8 < w < 25, (w, h)  # length ~ 2 * 40 * sqrt(2), thickness ~ 2 * 6
    assert LookPolicy.detector_crop(Detection(boxes=d.boxes, scores=d.scores, masses=d.masses, skeleton=skel,
                                              map_to_frame=d.map_to_frame), np.array([50, 50, 150, 150])) is None
