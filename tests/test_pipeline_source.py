"""The ``pipeline:`` data source: GestureNet training data whose keypoints
come from the SDK's own detector + landmarker, as at runtime."""
import numpy as np
import pytest

from handsdk.train.data.sample import Sample
from handsdk.train.data import sources as S
from handsdk.train.models.gesture.examples import gesture_pool
from tests.conftest import red_stroke_frame


def _samples(n=4):
    out = []
    for i in range(n):
        dot = (130 + 10 * i, 100 + 5 * i)
        bgr = red_stroke_frame(240, 320, green_at=dot)
        out.append((Sample(image=np.ascontiguousarray(bgr[..., ::-1]), boxes=np.array([[100, 60, 180, 160]], np.float32),
                           label="AB"[i % 2], label_set="test", source="gen", path=f"/gen/{i}.png"), dot))
    return out


def test_pipeline_keypoints_are_the_bundles_and_cached(bundle_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HANDSDK_CACHE", str(tmp_path))
    pairs = _samples()
    got = S.pipeline_keypoints([s for s, _ in pairs], bundle_path)
    assert len(got) == len(pairs)
    for g, (s, dot) in zip(got, pairs):
        assert g.keypoint_source == "pipeline" and g.label == s.label and g.image is None
        assert g.keypoints.shape == (1, 21, 3)
        # the tiny landmarker puts every keypoint on the green dot
        assert np.abs(g.keypoints[0, :, :2] - np.array(dot)).max() < 8, g.keypoints[0, :2]
        assert g.handedness[0] in ("Left", "Right")
    assert list((tmp_path / "pipeline_keypoints").glob("*.json"))
    # second pass: served from the cache, images no longer needed
    again = S.pipeline_keypoints([Sample(image=None, label=s.label, path=s.path) for s, _ in pairs], bundle_path)
    np.testing.assert_allclose(np.stack([g.keypoints for g in again]), np.stack([g.keypoints for g in got]))
    feats, labels = gesture_pool(got)
    assert feats.shape == (len(pairs), 21, 2) and list(labels) == [s.label for s, _ in pairs]


def test_pipeline_source_needs_a_bundle(tmp_path):
    from handsdk.train.config import SourceConfig

    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="data.pipeline"):
        list(S.iter_source(SourceConfig(name="pipeline:asl_letters/train"), rng, 3, task="gesture"))
    with pytest.raises(FileNotFoundError, match="not found"):
        S.pipeline_keypoints([], tmp_path / "missing.handsdk")


def test_pipeline_over_synthetic_gestures(bundle_path, tmp_path, monkeypatch):
    monkeypatch.setenv("HANDSDK_CACHE", str(tmp_path))
    from handsdk.train.config import SourceConfig

    src = SourceConfig(name="pipeline:synth", options={"gesture_set": "commands", "size": [96, 128], "seed": 3})
    got = list(S.iter_source(src, np.random.default_rng(0), 6, task="gesture", pipeline=str(bundle_path)))
    # the tiny test bundle finds red strokes, not rendered hands: whatever it finds is labelled
    # with the rendered gesture and comes from the pipeline
    assert len(got) == 6
    assert all(g.keypoint_source == "pipeline" and g.label_set == "commands" and g.label for g in got)
