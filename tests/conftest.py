"""Shared fixtures: tiny Keras models (32-64 px) converted to TFLite and
bundled once per session; they drive the runtime tests end to end.

The tiny detector and landmarker have fixed, meaningful weights, so tests can
check geometry rather than shapes alone:
* detector: the skeleton map is high where the image is strongly red
  (sigmoid(12 * (r - g - b) - 4)), so a red stroke drawn in a frame must come
  back as a box around it, whatever the frame's size and aspect;
* landmarker: every heatmap is the green channel (average-pooled), so all 21
  keypoints land on the brightest green spot of the crop, mapped back to frame
  pixels.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_root() -> Path | None:
    from handsdk.paths import find_data_root

    return find_data_root()


needs_data = pytest.mark.skipif(shared_data_root() is None, reason="shared data (../shared/data) is absent")


def tiny_detector(size=(48, 64)):
    from handsdk.train.tf import keras

    i = keras.Input((*size, 3), name="image")
    s = keras.layers.Conv2D(1, 1, activation="sigmoid", name="skeleton",
                            kernel_initializer=keras.initializers.Constant(0.0))(i)
    m = keras.Model(i, s)
    m.get_layer("skeleton").set_weights([np.array([12.0, -12.0, -12.0], np.float32).reshape(1, 1, 3, 1),
                                         np.array([-4.0], np.float32)])
    return m


def tiny_landmarker(size=32, skeleton=True, extra_random=True):
    from handsdk.train.tf import keras

    i = keras.Input((size, size, 3), name="image")
    ins = [i]
    x = i
    if skeleton:
        s = keras.Input((size, size, 1), name="skeleton")
        ins.append(s)
    green = keras.layers.Conv2D(21, 1, use_bias=False, name="green")(i)
    hm = keras.layers.AveragePooling2D(2, name="heatmaps")(green)
    feat = keras.layers.GlobalAveragePooling2D()(keras.layers.Concatenate()(ins) if skeleton else x)
    presence = keras.layers.Dense(1, activation="sigmoid", name="presence")(feat)
    handed = keras.layers.Dense(1, activation="sigmoid", name="handedness")(feat)
    m = keras.Model(ins, [hm, presence, handed])
    w = np.zeros((1, 1, 3, 21), np.float32)
    w[0, 0, 1, :] = 1.0
    m.get_layer("green").set_weights([w])
    pw, pb = m.get_layer("presence").get_weights()
    m.get_layer("presence").set_weights([np.zeros_like(pw), np.array([3.0], np.float32)])
    return m


def tiny_gesture(n_classes=3, seed=0):
    from handsdk.train.tf import keras

    keras.utils.set_random_seed(seed)
    i = keras.Input((21, 2), name="keypoints")
    x = keras.layers.Conv1D(8, 7, padding="same", activation="relu")(i)
    x = keras.layers.Conv1D(8, 7, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    x = keras.layers.Dense(16, activation="relu")(x)
    out = keras.layers.Dense(n_classes, activation="softmax", name="scores")(x)
    return keras.Model(i, out)


@pytest.fixture(scope="session")
def tiny_tflite():
    """{role: tflite bytes} of the tiny models (fp32)."""
    from handsdk.convert.tflite import keras_to_tflite

    return {
        "detector": keras_to_tflite(tiny_detector()),
        "landmarker": keras_to_tflite(tiny_landmarker()),
        "commands": keras_to_tflite(tiny_gesture(3, seed=1)),
        "letters": keras_to_tflite(tiny_gesture(4, seed=2)),
    }


@pytest.fixture(scope="session")
def bundle_bytes(tiny_tflite):
    from handsdk.bundle import GestureSet, build_bundle

    return build_bundle(
        detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
        gestures={"commands": GestureSet(tiny_tflite["commands"], ("none", "open_palm", "fist")),
                  "letters": GestureSet(tiny_tflite["letters"], ("A", "B", "C", "D"), kind="spelling",
                                        none_label=None)},
        detector_decoding={"threshold": 0.5, "min_mass": 3.0, "min_size_frac": 0.05, "pad": 0.1},
        landmarker_decoding={"type": "heatmaps", "crop_scale": 1.4},
        thresholds={"min_detection_score": 0.5},
        provenance={"training_data": ["tests (fixed weights)"], "note": "test bundle"},
        name="tiny-test",
    )


@pytest.fixture(scope="session")
def bundle_path(bundle_bytes, tmp_path_factory):
    p = tmp_path_factory.mktemp("bundle") / "tiny.handsdk"
    p.write_bytes(bundle_bytes)
    return p


def red_stroke_frame(h=240, w=320, box=(100, 60, 180, 160), green_at=None):
    """A BGR frame with a thick red diagonal stroke spanning ``box`` and an
    optional bright green dot."""
    import cv2

    img = np.full((h, w, 3), 40, np.uint8)
    x0, y0, x1, y1 = box
    cv2.line(img, (x0, y0), (x1, y1), (0, 0, 255), 8)
    cv2.line(img, (x0, y1), (x1, y0), (0, 0, 255), 8)
    if green_at is not None:
        cv2.circle(img, tuple(int(v) for v in green_at), 4, (0, 255, 0), -1)
    return img
