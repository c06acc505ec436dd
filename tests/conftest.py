"""Shared fixtures: tiny models (32-64 px) as TFLite, bundled once per session;
they drive the runtime tests end to end.

The models come from the committed fixture tests/fixtures/tiny/ (written by
tests/fixtures/make_fixtures.py, which describes their fixed, meaningful
weights), so the runtime tests need no TensorFlow. When the fixture is absent
they are built with TensorFlow instead; with neither, the tests that need them
are skipped with a message saying how to regenerate the fixture.
tests/test_fixtures.py checks that the fixture is current with the script.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def _load_fixture_script():
    spec = importlib.util.spec_from_file_location(
        "handsdk_test_fixtures", Path(__file__).resolve().parent / "fixtures" / "make_fixtures.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


fixture_script = _load_fixture_script()
# the Keras definitions (need TensorFlow when called), for tests that convert them
tiny_detector = fixture_script.tiny_detector
tiny_landmarker = fixture_script.tiny_landmarker
tiny_gesture = fixture_script.tiny_gesture


def shared_data_root() -> Path | None:
    from handsdk.train.data.catalog import find_data_root

    return find_data_root()


needs_data = pytest.mark.skipif(shared_data_root() is None, reason="shared data (../shared/data) is absent")

#: ``train_motion`` overrides of a motion set trained for a moment (a few takes, one epoch, no folds)
TINY_MOTION_OVERRIDES = {
    "model.filters": [8, 8, 8], "model.hidden": 8, "data.takes_per_class": 3, "data.none_takes": 12,
    "data.point_history": False, "data.real_hands": 0.0, "data.static_minutes": 0.0, "train.folds": [],
    "train.epochs": 1, "train.batch_size": 64, "train.quantization": ["fp32"]}


@pytest.fixture(scope="session")
def tiny_tflite():
    """{role: tflite bytes} of the tiny models (fp32): the committed fixture,
    else built now with TensorFlow."""
    models = fixture_script.load_fixtures()
    if models is not None:
        return models
    try:
        import tensorflow  # noqa: F401
        import tf_keras  # noqa: F401
    except ImportError:
        pytest.skip(f"the tiny test models are absent ({fixture_script.FIXTURE_DIR}) and TensorFlow is not "
                    f"installed to build them; regenerate them: {fixture_script.REGENERATE}")
    return fixture_script.build_models()


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
