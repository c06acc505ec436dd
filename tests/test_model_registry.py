"""One folder per trained model (handsdk.train.models.<name>: config, model,
examples, evaluation) and one registry of them."""
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


def test_a_model_folder_builds_its_model():
    pytest.importorskip("tf_keras")
    from handsdk.train.config import GestureModelConfig
    from handsdk.train.models.gesture.model import build_gesture, gesture_metadata

    m = build_gesture(GestureModelConfig(labels=["a", "b"]))
    assert gesture_metadata(m, GestureModelConfig(labels=["a", "b"]))["labels"] == ["a", "b"]
