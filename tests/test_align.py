"""Upright (rotation-aligned) landmark crops, MediaPipe-style: the crop rule
shared by training and runtime, and the runtime's two-pass landmarking."""
import numpy as np
import pytest

from handsdk.image import apply_affine, crop_matrix
from handsdk.keypoints import aligned_box, hand_rotation
from tests.conftest import red_stroke_frame


def _hand(angle_deg, centre=(160.0, 120.0), length=60.0):
    """A straight 'hand': wrist, then 20 points along the direction ``angle``
    (image coordinates: 0 = pointing right, 90 = pointing down), fanned sideways."""
    a = np.radians(angle_deg)
    fwd, side = np.array([np.cos(a), np.sin(a)]), np.array([-np.sin(a), np.cos(a)])
    kp = np.zeros((21, 3), np.float32)
    kp[0, :2] = centre
    for i in range(1, 21):
        finger, joint = (i - 1) // 4, (i - 1) % 4
        kp[i, :2] = np.array(centre) + fwd * length * (0.4 + 0.15 * joint) + side * 10 * (finger - 2)
    return kp


@pytest.mark.parametrize("angle", [0, 45, 90, 180, -135])
def test_aligned_crops_put_the_wrist_below_the_knuckles(angle):
    kp = _hand(angle)
    rot = hand_rotation(kp)
    m = crop_matrix(aligned_box(kp, rot), 64, scale=1.4, rotation=rot)
    c = apply_affine(m, kp[:, :2])
    knuckles = c[[5, 9, 13]].mean(axis=0)
    assert abs(knuckles[0] - c[0, 0]) < 1e-3 and knuckles[1] < c[0, 1]  # straight up from the wrist
    # the aligned box is tight in the rotated frame: the hand spans 64 / 1.4 px along its longer side
    span = c.max(axis=0) - c.min(axis=0)
    assert abs(max(span) - 64 / 1.4) < 0.5
    assert (c >= 0).all() and (c <= 64).all()


def test_hand_rotation_without_a_visible_wrist_is_zero():
    kp = _hand(90)
    vis = np.ones(21)
    vis[0] = 0
    assert hand_rotation(kp, vis) == 0.0
    assert hand_rotation(np.zeros((21, 3))) == 0.0  # degenerate: no direction


def test_training_crops_are_upright_when_aligned():
    from handsdk.train.config import PoseModelConfig
    from handsdk.train.data.sample import Sample
    from handsdk.train.models.pose.examples import pose_pool

    kp = _hand(0)
    kp[:, 2] = 1
    s = Sample(image=np.zeros((240, 320, 3), np.uint8), boxes=np.zeros((1, 4), np.float32), keypoints=kp[None],
               handedness=["Right"])
    rng = np.random.default_rng(0)
    up = pose_pool([s], 64, PoseModelConfig(align=True), rng, negatives=0.0, jitter=False)["keypoints"][0]
    flat = pose_pool([s], 64, PoseModelConfig(align=False), rng, negatives=0.0, jitter=False)["keypoints"][0]
    assert up[[5, 9, 13], 1].mean() < up[0, 1] - 10  # knuckles above the wrist
    assert abs(flat[[5, 9, 13], 1].mean() - flat[0, 1]) < 1  # pointing right, as in the frame


def upright_bundle(tiny, landmarker=None, landmarker_decoding=None, quantization="fp32") -> bytes:
    """A bundle of the tiny models whose landmarker (``landmarker``, default the
    tiny one) is an upright-crop one (two passes on a detection)."""
    from handsdk.bundle import GestureSet, build_bundle

    return build_bundle(detector=tiny["detector"], landmarker=landmarker or tiny["landmarker"],
                        gestures={"commands": GestureSet(tiny["commands"], ("none", "open_palm", "fist"))},
                        detector_decoding={"threshold": 0.5, "min_mass": 3.0, "min_size_frac": 0.05, "pad": 0.1},
                        landmarker_decoding=landmarker_decoding or {"type": "heatmaps", "crop_scale": 1.4,
                                                                    "align": True},
                        quantization=quantization)


def test_an_upright_landmarker_still_maps_keypoints_back_to_the_frame(tiny_tflite):
    import handsdk

    data = upright_bundle(tiny_tflite)
    lm = handsdk.HandLandmarker(data)
    assert lm.look.align
    dot = (150, 100)
    res = lm.landmark(red_stroke_frame(240, 320, green_at=dot), (110, 70, 190, 150))
    # two passes; the tiny model puts all keypoints on the green dot (no direction: rotation 0,
    # and the collapsed keypoints do not shrink the second crop below 0.6 of the box)
    assert np.abs(res.keypoints[:, :2] - np.array(dot)).max() < 7.5
    with handsdk.GestureRecognizer(handsdk.GestureRecognizerOptions(
            bundle=data, running_mode=handsdk.RunningMode.VIDEO)) as rec:
        for t in range(4):
            r = rec.recognize(red_stroke_frame(240, 320, green_at=(150 + t, 100)), t * 33)
            assert len(r.hands) == 1 and np.abs(r.hands[0].keypoints[:, :2] - (150 + t, 100)).max() < 10


def test_near_negatives_are_hand_sized_crops_beside_the_hand():
    from handsdk.train.config import PoseModelConfig
    from handsdk.train.data.sample import Sample
    from handsdk.train.models.pose.examples import _negative_crop

    img = np.zeros((240, 320, 3), np.uint8)
    img[100:140, 140:180] = 255  # the hand: white
    img[100:140, 180:320] = 90  # the forearm beside it: grey
    kp = _hand(0, centre=(145.0, 120.0), length=30.0)
    kp[:, 2] = 1
    s = Sample(image=img, boxes=np.zeros((1, 4), np.float32), keypoints=kp[None])
    rng = np.random.default_rng(0)
    near = [_negative_crop(s, 32, PoseModelConfig(near_negatives=1.0), rng) for _ in range(40)]
    near = [c for c in near if c is not None]
    assert len(near) >= 30
    assert all((c == 255).mean() < 0.2 for c in near)  # little of the hand in any of them
    assert np.mean([(c == 90).mean() > 0.05 for c in near]) > 0.2  # and often some of the arm
