"""The default-bundle rebuild: reuse runs, convert, evaluate, provenance."""
from __future__ import annotations

import json

import pytest

from handsdk import load_bundle
from tests.conftest import TINY_MOTION_OVERRIDES, needs_data, tiny_detector, tiny_gesture, tiny_landmarker


def _tiny_runs(root):
    specs = {
        "detector": (tiny_detector(), {"role": "detector", "decoding": {"min_mass": 3.0},
                                       "data": {"train": ["synth", "real:asl_letters/train"]}}),
        "pose": (tiny_landmarker(), {"role": "landmarker", "decoding": {"type": "heatmaps"},
                                     "data": {"train": ["synth"]}}),
        "gesture_commands": (tiny_gesture(3), {"role": "gesture:commands", "labels": ["none", "open_palm", "fist"],
                                               "decoding": {"kind": "commands", "none_label": "none"},
                                               "data": {"train": ["real:gesture_keypoints_csv"]},
                                               "best": {"metrics": {"val_accuracy": 0.9}}}),
        "gesture_asl": (tiny_gesture(4), {"role": "gesture:asl_letters", "labels": ["A", "B", "C", "D"],
                                          "decoding": {"kind": "fingerspelling", "none_label": None},
                                          "data": {"train": ["synth"]}}),
    }
    from handsdk.train.release import SHIPPED

    root.mkdir(parents=True, exist_ok=True)
    for task, _, name, _ in SHIPPED.steps:  # every step of the shipped recipe, finished
        if task in ("mine", "faces", "teacher"):
            (root / name).write_text(json.dumps({"boxes": {}}))
        elif task in ("detector", "pose") and name not in specs:
            specs[name] = specs[task if task == "detector" else "pose"]
        elif task == "gesture" and name not in specs:
            specs[name] = specs[name.removesuffix("_pipeline")]
    for name, (model, meta) in specs.items():
        d = root / name
        d.mkdir(parents=True)
        model.save(d / "best.keras")
        (d / "metadata.json").write_text(json.dumps(meta))
    from handsdk.train.models.motion.train import train_motion  # a tiny motion set, trained for a moment

    train_motion(None, root / "motion", progress=None, overrides=TINY_MOTION_OVERRIDES)


def test_build_default_reuses_runs_and_records_provenance(tmp_path):
    from handsdk.train.release import build_default_bundle, with_provenance

    _tiny_runs(tmp_path / "runs")
    out = tmp_path / "default.handsdk"
    stale = tmp_path / "weights" / "detector_old"  # a run shipped before, no longer in FINAL
    stale.mkdir(parents=True)
    (stale / "best.keras").write_bytes((tmp_path / "runs" / "detector" / "best.keras").read_bytes())
    (tmp_path / "weights" / "README.txt").write_text("kept")
    rep = build_default_bundle(out, runs=tmp_path / "runs", fmt="fp32", train=False, evaluate=False,
                               weights_dir=tmp_path / "weights", progress=lambda m: None)
    # the Keras weights of the shipped models are exported beside the bundle (to be committed)
    # (and the motion run's, which handsdk convert --gesture takes)
    assert set(rep["weights"]) == {"detector_a224", "pose_mb96_fta_faces", "gesture_commands_pipeline",
                                   "gesture_asl_pipeline", "motion"}
    from handsdk.train.trainer import load_exported

    assert load_exported(tmp_path / "weights" / "pose_mb96_fta_faces" / "best.keras").count_params() > 0
    assert (tmp_path / "weights" / "motion" / "report.json").is_file()
    th = json.loads((tmp_path / "weights" / "detector_a224" / "thresholds.json").read_text())
    assert th == {"min_detection_score": 0.68}  # the shipped recipe's, not the runs' own
    assert not stale.exists() and (tmp_path / "weights" / "README.txt").is_file()
    assert rep["size_bytes"] == out.stat().st_size
    b = load_bundle(out)
    assert set(b.gesture_sets) == {"commands", "asl_letters", "motion"}  # (the motion run added as trained)
    assert b.gesture_sets["motion"].decoding["kind"] == "motion" and rep["recipe"] == "shipped"
    prov = b.provenance
    # the models' training sources, and the scene sets whose frames were mined for presence negatives
    # (and whose faces were: selfie_people)
    mined = {"real:driver_cam", "real:webcam_finger_counts/train", "real:webcam_signs/train",
             "real:selfie_people"}
    assert {"real:asl_letters/train", "real:gesture_keypoints_csv", "synth"} | mined <= set(prov["training_data"])
    # nothing validation-only: not the mined validation frames, not the held-out sets
    assert not any(t.endswith("/valid") or "asl_signers_studio" in t or "asl_two_signers" in t
                   for t in prov["training_data"])
    assert prov["metrics"]["gesture:commands"]["val_accuracy"] == 0.9
    # CC BY / MIT data need credit: every shared set it was trained on, with licence and source
    credits = prov["data_credits"]
    assert {"asl_letters", "gesture_keypoints_csv", "webcam_signs", "driver_cam"} <= set(credits)
    assert all(c["shippable"] for c in credits.values())  # nothing validation-only went into it
    assert credits["asl_letters"]["licence"] == "Public Domain" and credits["asl_letters"]["shippable"]
    with_provenance(out, {"evaluation": {"x": 1}})
    b2 = load_bundle(out)
    assert b2.provenance["evaluation"] == {"x": 1} and b2.provenance["training_data"] == prov["training_data"]
    assert b2.model_bytes("detector") == b.model_bytes("detector")


@needs_data
def test_evaluate_bundle_on_the_human_keypoints(bundle_path):
    from handsdk.train.release import evaluate_bundle

    ev = evaluate_bundle(bundle_path, limit=5, progress=lambda m: None)
    r = ev["hand_keypoints_gt"]
    assert r["images"] == 5 and 0.0 <= r["detection_rate"] <= 1.0
    assert r["keypoints_on_gt_box"]["hands"] >= 5
    assert 0.0 <= r["keypoints_on_gt_box"]["all"]["pck@0.2"] <= 1.0
    sc = ev["webcam_finger_counts/valid"]["scene"]  # camera scenes: hands on human boxes, false hands
    assert sc["images"] == 5 and sc["humans"] >= 5 and 0.0 <= sc["found_rate"] <= 1.0
    assert sc["false_per_image"] >= 0.0
    # commands per human-labelled hand: the bundle's keypoints and MediaPipe's, the same hands
    c = ev["webcam_finger_counts/valid"]["commands_per_hand"]
    assert c["set"] == "commands" and c["hands"] >= 1, c  # (the tiny bundle's commands have fist and open_palm)
    assert 0.0 <= c["sdk_accuracy"] <= 1.0 and 0.0 <= c["mediapipe_accuracy"] <= 1.0
    assert c["mediapipe_found"] <= c["hands"] and c["sdk_found"] <= c["hands"]
    assert "commands_per_hand" not in ev["hand_keypoints_gt"]


@pytest.mark.parametrize("recipe", ["shipped", "scratch", "previous"])
def test_every_interim_bundle_a_step_names_is_defined(tmp_path, recipe):
    """The pipeline GestureNets, the minings and the skeleton input read
    interim bundles by file name; each must be one build-default knows how to
    build, from runs that come earlier in the steps."""
    from pathlib import Path

    from handsdk.train.release import RECIPES, _interim

    r = RECIPES[recipe]
    order = [name for _, _, name, _ in r.steps]
    assert len(order) == len(set(order)), "two steps write the same run"
    for i, (_, _, name, ov) in enumerate(r.steps):
        for key in ("data.pipeline", "bundle", "data.skeleton_bundle"):
            if key in ov and ov[key] not in ("{shipped}", "null"):  # (the bundle that ships today: no interim)
                f = Path(ov[key].replace("{runs}/", "")).name
                assert f in r.interims, f"{name}: {f} is not in the recipe's interims"
                spec = r.interims[f]
                for run in (spec["detector"], spec["pose"], *spec["gestures"]):
                    assert run in order[:i], f"{name} needs {run} before it"
    for run in (r.final["detector"], r.final["pose"], *r.final["gestures"]):
        assert run in order
    with pytest.raises(ValueError, match="no interim bundle is named .other.handsdk.*interim_final.handsdk"):
        _interim(tmp_path, tmp_path / "other.handsdk", set(), True, None, lambda m: None)


def _resolved_steps(recipe):
    """(task, run, config dict with the step's overrides, "{runs}" as RUNS, or None for
    a step that trains nothing) of each step; no step may name the bundle that ships."""
    import yaml

    from handsdk.train.config import apply_overrides, read_config
    from handsdk.train.release import CONFIG_DIR

    for task, cfg, name, ov in recipe.steps:
        assert not any("{shipped}" in str(v) for v in ov.values()), name
        d = None
        if task in ("gesture", "detector", "pose"):
            d = read_config(CONFIG_DIR / f"{cfg}.yaml")
            apply_overrides(d, {k: yaml.safe_load(str(v).replace("{runs}", "RUNS")) for k, v in ov.items()})
        yield task, name, d


def test_the_scratch_recipe_starts_from_nothing_shipped():
    """Issue 27, point 3: every model of --recipe scratch trains from random
    initialisation, and every file a step reads (negatives, the teacher's
    hands, the skeleton input's bundle, the pipeline's bundle) is made by an
    earlier step of the same run; nothing names the bundle that ships."""
    from handsdk.train.release import SCRATCH

    made: list = []
    for task, name, d in _resolved_steps(SCRATCH):
        if d is not None:
            assert (d.get("train") or {}).get("init_from") is None, f"{name} starts from {d['train']['init_from']}"
            for k, v in (d.get("data") or {}).items():
                for f in (v.split(",") if isinstance(v, str) else []):
                    if f.endswith((".json", ".handsdk")) or "runs/" in f or "models/" in f:
                        assert f.startswith("RUNS/"), f"{name}: data.{k} reads {f}, which the run does not make"
                        base = f[len("RUNS/"):]
                        assert base in made or base in SCRATCH.interims, f"{name}: data.{k} reads {f} before it exists"
        made.append(name)
        for f, spec in SCRATCH.interims.items():  # an interim exists once its runs do
            if f not in made and all(x in made for x in (spec["detector"], spec["pose"], *spec["gestures"])):
                made.append(f)
    assert SCRATCH.counts() == {"teacher": 1, "gesture": 4, "detector": 1, "faces": 2, "pose": 2, "mine": 2,
                                "motion": 1}


def test_the_shipped_recipe_reads_no_bundle_shipped_before():
    """The shipped recipe builds from a clean checkout: no step reads the bundle
    that ships today ({shipped}) or a file outside the run (runs/default/...,
    train/checkpoints/...): every negative, teacher file, skeleton map and
    starting point is made by an earlier step of the same run."""
    from handsdk.train.release import SHIPPED

    made: list = []
    for task, name, d in _resolved_steps(SHIPPED):
        if d is not None:
            init = (d.get("train") or {}).get("init_from")
            reads = [init] if init else []
            for v in (d.get("data") or {}).values():
                reads += [f for f in (v.split(",") if isinstance(v, str) else [])
                          if f.endswith((".json", ".handsdk", ".keras")) or "runs/" in f or "checkpoints/" in f]
            for f in reads:
                assert f.startswith("RUNS/"), f"{name} reads {f}, which the run does not make"
                base = f[len("RUNS/"):].split("/")[0]
                assert base in made or base in SHIPPED.interims, f"{name} reads {f} before it exists"
        made.append(name)
    assert SHIPPED.counts() == {"teacher": 1, "gesture": 4, "detector": 4, "faces": 2, "pose": 5, "mine": 3,
                                "motion": 1}


def test_compare_takes_a_set_with_or_without_its_split_and_refuses_unknown_ones(bundle_path, capsys):
    from handsdk.train.compare import compare, main

    with pytest.raises(ValueError, match="unknown set 'webcam_sign'.*webcam_signs/valid"):
        compare([bundle_path], [None], sets={"webcam_sign"})
    assert main(["--bundle", str(bundle_path), "--sets", "webcam_signs,nope"]) == 2
    assert "unknown set 'nope'" in capsys.readouterr().err
    res = compare([bundle_path], [0.5], sets={"webcam_signs/valid"}, limit=2, progress=lambda m: None)
    from handsdk.train.data.catalog import has_data

    # (the split's name selects the set, as the results name it; nothing else is run)
    assert set(res) == ({"webcam_signs/valid"} if has_data(None, "webcam_signs") else set())
