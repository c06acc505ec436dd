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
