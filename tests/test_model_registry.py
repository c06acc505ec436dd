"""One folder per trained model (handsdk.train.models.<name>: config, model,
examples, evaluation) and one registry of them; the old import paths still
resolve to the same objects."""
import subprocess
import sys

import pytest


def test_registry_names_and_specs():
    from handsdk.train.config import MODEL_CONFIGS, TASKS
    from handsdk.train.models import get, names

    assert names()[:3] == TASKS == ("detector", "pose", "gesture")
    monitors = {t: get(t).monitor for t in TASKS}
    assert monitors == {"detector": "val_ap", "pose": "val_pck20", "gesture": "val_macro_f1"}
    assert {t: get(t).config for t in TASKS} == MODEL_CONFIGS
    assert get("detector").eval_source_task == "detector_eval" and get("pose").eval_source_task == "pose"
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        get("nope")


def test_registry_is_light():
    code = ("import sys\nfrom handsdk.train.models import get\nfrom handsdk.train.config import load_config\n"
            "[get(t).config() for t in ('detector', 'pose', 'gesture')]\n"
            "print(any(m in sys.modules for m in ('tensorflow', 'tf_keras', 'keras')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_register_a_task():
    from handsdk.train.models import get, names, register

    spec = get("gesture")
    import dataclasses

    try:
        register(dataclasses.replace(spec, name="gesture_copy"))
        assert get("gesture_copy").monitor == spec.monitor and "gesture_copy" in names()
    finally:
        from handsdk.train.models import registry

        registry._SPECS.pop("gesture_copy", None)


def test_old_paths_resolve_to_the_moved_code():
    from handsdk.train import evaluate as E
    from handsdk.train.data import sources as S
    from handsdk.train.models import data as D
    from handsdk.train.models.detector import examples as DE
    from handsdk.train.models.gesture import evaluate as GE
    from handsdk.train.models.pose import evaluate as PE
    from handsdk.train.models.pose import examples as PE_

    assert D.toy_sample is S.toy_sample and D.iter_source is S.iter_source and D.mixed_samples is S.mixed_samples
    assert D.detector_pool is DE.detector_pool and D.pose_pool is PE_.pose_pool
    assert D._negative_crop is PE_._negative_crop
    assert E.evaluate_pose is PE.evaluate_pose and E.plot_confusion is GE.plot_confusion
    with pytest.raises(AttributeError):
        E.no_such_function  # noqa: B018


def test_old_model_modules_still_build():
    pytest.importorskip("tf_keras")
    from handsdk.train.config import GestureModelConfig
    from handsdk.train.models.gesture import build_gesture, gesture_metadata
    from handsdk.train.models.gesture.model import build_gesture as moved

    assert build_gesture is moved
    m = build_gesture(GestureModelConfig(labels=["a", "b"]))
    assert gesture_metadata(m, GestureModelConfig(labels=["a", "b"]))["labels"] == ["a", "b"]
