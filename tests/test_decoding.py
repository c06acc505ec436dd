"""The detector's decoding defaults live in one place (handsdk.decode.DetectorDecoding)."""
import dataclasses
import inspect

import pytest

from handsdk.decode import DetectorDecoding, skeleton_to_boxes


def test_detector_decoding_defaults_are_the_one_source():
    d = DetectorDecoding()
    assert d.as_dict() == {"threshold": 0.5, "min_mass": 20.0, "min_size_frac": 0.04, "pad": 0.15}
    defaults = {k: p.default for k, p in inspect.signature(skeleton_to_boxes).parameters.items()}
    assert all(defaults[k] == v for k, v in d.as_dict().items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.threshold = 0.3


def test_detector_decoding_from_dict_takes_the_given_fields_only():
    d = DetectorDecoding.from_dict({"min_mass": 3.0, "pad": 0.1, "type": "skeleton", "input_height": 96})
    assert d == DetectorDecoding(min_mass=3.0, pad=0.1)
    assert DetectorDecoding.from_dict(None) == DetectorDecoding() == DetectorDecoding.from_dict({})


def test_training_config_defaults_follow_detector_decoding():
    from handsdk.train.config import DetectorModelConfig

    m = DetectorModelConfig()
    assert {k: getattr(m, k) for k in DetectorDecoding().as_dict()} == DetectorDecoding().as_dict()


def test_the_manifest_decoding_wins(bundle_path):
    from handsdk.stages import HandDetector

    det = HandDetector(bundle_path)  # the test bundle writes min_mass 3, min_size_frac 0.05, pad 0.1
    assert (det.threshold, det.min_mass, det.min_size_frac, det.pad) == (0.5, 3.0, 0.05, 0.1)


# ------------------------------------------------- landmarker output decoding
def _peaks(size=32, k=21, seed=0):
    """(1, size/2, size/2, k) heatmaps with one peak per keypoint, and the
    peaks' cell centres in crop pixels."""
    import numpy as np

    rng = np.random.default_rng(seed)
    hm = np.zeros((1, size // 2, size // 2, k), np.float32)
    cells = rng.integers(1, size // 2 - 1, size=(k, 2))
    for j, (x, y) in enumerate(cells):
        hm[0, y, x, j] = 1.0
    return hm, (cells + 0.5) * 2.0


def test_landmarker_keypoints_heatmaps_and_regressed():
    import numpy as np

    from handsdk.decode import heatmaps_to_keypoints, landmarker_keypoints

    hm, want = _peaks()
    got = landmarker_keypoints({"heatmaps": hm, "presence": np.ones((1, 1))}, 32)
    np.testing.assert_allclose(got, want, atol=1e-5)
    xy, _ = heatmaps_to_keypoints(hm[0])
    np.testing.assert_array_equal(got, xy * (32 / hm.shape[2]))
    reg = np.random.default_rng(1).random((1, 42)).astype(np.float32)
    both = {"keypoints": reg, "heatmaps": hm}
    np.testing.assert_array_equal(landmarker_keypoints(both, 64), reg.reshape(-1, 2) * 64)  # keypoints win
    np.testing.assert_array_equal(landmarker_keypoints(both, 32, "heatmaps"), got)
    with pytest.raises(ValueError, match="unknown landmarker decoding"):
        landmarker_keypoints(both, 32, "softargmax")
    with pytest.raises(ValueError, match="needs a 'keypoints' output"):
        landmarker_keypoints({"heatmaps": hm}, 32, "keypoints")


def test_one_landmarker_decoding_for_runtime_convert_and_training():
    """convert's parity and training's evaluation decode like the runtime."""
    import numpy as np

    from handsdk.decode import landmarker_keypoints

    hm, _ = _peaks(seed=3)
    want = landmarker_keypoints({"heatmaps": hm}, 32)
    pytest.importorskip("tensorflow")
    from handsdk.convert.api import _keypoints_from
    from handsdk.train.evaluate import decode_heatmaps

    np.testing.assert_array_equal(_keypoints_from({"heatmaps": hm}, 32), want)
    np.testing.assert_array_equal(decode_heatmaps(np.concatenate([hm, hm]), 32), np.stack([want, want]))
