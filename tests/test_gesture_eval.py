"""Command-gesture data mapping and the held-out gesture evaluation (issue 13)."""
import numpy as np
import pytest

from handsdk.keypoints import batch_keypoint_features
from handsdk.train.data import gestures as G
from handsdk.train.data import catalog, real
from handsdk.train import gesture_eval as E
from handsdk.train.data.sources import TOY_GESTURES, toy_hand


def _toy(label, n, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.stack([toy_hand(rng, TOY_GESTURES[label]) for _ in range(n)])
    return np.concatenate([kp, np.ones((n, 21, 1), np.float32)], -1)


def test_finger_states_on_toy_hands():
    assert G.finger_states(_toy("open", 20)).all()
    assert not G.finger_states(_toy("fist", 20)).any()
    fs = G.finger_states(_toy("victory", 20))
    assert fs[:, :2].all() and not fs[:, 2:].any()


def test_fold_metrics_over_the_sources_classes_and_none_precision():
    classes = ["none", "a", "b", "c"]
    t = np.array([1, 1, 2, 2, 0, 0])
    p = np.array([1, 0, 2, 2, 0, 3])
    m = E.fold_metrics(t, p, classes)
    assert m["accuracy"] == pytest.approx(4 / 6)
    # F1 over none, a, b only (c is absent from y_true, though predicted once)
    f_none, f_a, f_b = 2 / 4, 2 / 3, 1.0
    assert m["macro_f1"] == pytest.approx((f_none + f_a + f_b) / 3)
    assert set(m["per_class_f1"]) == {"none", "a", "b"}
    assert m["none_precision"] == pytest.approx(0.5) and m["none_predicted"] == 2
    assert E.fold_metrics(np.array([1]), np.array([1]), classes)["none_precision"] is None


def test_choose_min_score_reaches_the_precision():
    classes = ["none", "a", "b"]
    # confident right answers, unconfident wrong ones
    scores = np.array([[0.05, 0.9, 0.05], [0.05, 0.05, 0.9], [0.3, 0.4, 0.3], [0.15, 0.5, 0.35]], np.float32)
    y = np.array([1, 2, 0, 2])
    r = E.choose_min_score(scores, y, classes, target_precision=0.99)
    assert 0.5 < r["chosen"]["min_score"] <= 0.9
    assert r["chosen"]["precision"] == 1.0 and r["chosen"]["none_rejected"] == 1.0
    assert r["chosen"]["gesture_recall"] == pytest.approx(2 / 3)


def test_ece_of_calibrated_and_overconfident_scores():
    rng = np.random.default_rng(0)
    conf = rng.uniform(0.2, 1.0, 20000)
    right = rng.random(20000) < conf
    assert E.expected_calibration_error(conf, right)[0] < 0.02
    assert E.expected_calibration_error(np.full(1000, 0.99), np.arange(1000) < 500)[0] == pytest.approx(0.49)


def test_sample_weights_balance_classes_then_sources():
    labels = np.array(["a"] * 90 + ["a"] * 10 + ["b"] * 5)
    sources = np.array(["s1"] * 90 + ["s2"] * 10 + ["s1"] * 5)
    w = E.sample_weights(labels, sources, "class_source")
    assert w.sum() == pytest.approx(1.0)
    assert w[labels == "a"].sum() == pytest.approx(0.5) and w[labels == "b"].sum() == pytest.approx(0.5)
    assert w[:90].sum() == pytest.approx(w[90:100].sum())
    assert np.allclose(E.sample_weights(labels, sources, "none"), 1 / len(labels))


def test_gesturenet_recipe_learns_toy_gestures_and_generalises_to_a_new_seed():
    classes = ["open", "fist", "point", "victory"]
    kp = np.concatenate([_toy(c, 60, seed=i) for i, c in enumerate(classes)])
    labels = np.repeat(classes, 60)
    feats = batch_keypoint_features(kp)
    r = E.Recipe(epochs=4, examples_per_epoch=1024, synth_per_class=0, thumbs_flip=False, filters=16, hidden=32)
    model = E.train_classifier(feats, labels, np.array(["toy"] * len(labels)), classes, r)
    test = np.concatenate([_toy(c, 20, seed=100 + i) for i, c in enumerate(classes)])
    pred = E.predict(model, batch_keypoint_features(test)).argmax(1)
    assert (pred == np.repeat(np.arange(4), 20)).mean() > 0.9


def test_mapping_tables_name_only_known_commands():
    targets = set()
    for table in list(G.CSV_COMMANDS.values()) + list(G.SCENE_COMMANDS.values()) + [G.ASL_COMMANDS]:
        targets |= set(table.values())
    assert targets - {"3?"} <= set(G.COMMAND_LABELS)
    assert set(G.CSV_COMMANDS) == {a.replace("zoo_", "") for a in G.CSV_COMMANDS}


@pytest.mark.skipif(not catalog.has_data(None, "gesture_keypoints_csv"), reason="needs ../shared/data")
def test_csv_mapping_keys_exist_in_each_authors_labels():
    for author, table in G.CSV_COMMANDS.items():
        ss = real.gesture_keypoints_csv(author, on_bad_row="skip")
        have = {s.label for s in ss}
        assert set(table) <= have, (author, set(table) - have)
        rows = G.csv_rows(author)
        assert len(rows) and set(rows.labels) <= set(G.COMMAND_LABELS)


@pytest.mark.skipif(not catalog.has_data(None, "webcam_signs"), reason="needs ../shared/data")
def test_photo_rows_use_the_per_hand_labels_and_agree_with_the_pose():
    rows = G.photo_rows("webcam_signs")
    assert len(rows) > 50 and set(rows.labels) <= {"open_palm", "fist", "thumbs_up", "i_love_you"}
    fs = G.finger_states(rows.keypoints)
    assert fs[rows.labels == "open_palm"].all()
    assert (fs[rows.labels == "i_love_you"] == [1, 0, 0, 1]).all()
    assert rows.report["dropped_disagreeing"]["fist"] >= 0
    samples = G.gesture_source_samples("webcam_signs", {"balance": "class", "num": 40})
    assert len(samples) == 40 and all(s.label_set == "commands" and s.keypoints.shape == (1, 21, 3)
                                      for s in samples)
    with pytest.raises(ValueError, match="unknown gesture source"):
        G.gesture_source_samples("nope")


@pytest.mark.skipif(not catalog.has_data(None, "webcam_signs"), reason="needs ../shared/data")
def test_the_validation_splits_can_be_held_out_of_the_command_rows():
    """A GestureNet validated end to end on webcam_signs/valid must not train on it:
    exclude_splits leaves those images out, splits keeps only them, and the two
    partition the rows."""
    every = G.photo_rows("webcam_signs")
    train = G.photo_rows("webcam_signs", exclude_splits=("valid",))
    valid = G.photo_rows("webcam_signs", splits=("valid",))
    assert len(train) and len(valid) and len(train) + len(valid) == len(every)
    assert all("/valid/" in str(p) for p in valid.paths) and not any("/valid/" in str(p) for p in train.paths)
    rows = G.command_rows(("csv:kinivi", "webcam_signs"), splits=("valid",))  # (a CSV has no splits)
    assert len(rows) == len(valid) and "csv:kinivi" not in rows.report
    samples = G.gesture_source_samples("webcam_signs", {"balance": "none", "exclude_splits": ["valid"],
                                                         "thumbs_flip": False})
    assert len(samples) == len(train)
    with pytest.raises(ValueError, match="needs a bundle"):
        G.gesture_source_samples("webcam_signs", {"pipeline": True})


@pytest.mark.skipif(not catalog.has_data(None, "webcam_signs"), reason="needs ../shared/data")
def test_pipeline_command_rows_have_the_bundles_own_keypoints(bundle_path, tmp_path, monkeypatch):
    """pipeline: true replaces each labelled hand's keypoints by the ones the
    bundle finds on it (a hand it misses is left out), labels and splits kept."""
    monkeypatch.setenv("HANDSDK_CACHE", str(tmp_path))
    valid = G.photo_rows("webcam_signs", splits=("valid",))
    own = G.pipeline_rows("webcam_signs", bundle_path, splits=("valid",))
    assert len(own) + own.report["missed"] == len(valid)
    if len(own):  # (the tiny test bundle finds few real hands)
        assert set(own.labels) <= set(valid.labels)
        assert not any(np.array_equal(a[:, :2], b[:, :2]) for a in own.keypoints for b in valid.keypoints)


def test_custom_gestures_report_held_out_sources(bundle_path, tmp_path):
    import json

    from handsdk.train.custom import CustomGestureOptions, train_custom_gestures

    data = tmp_path / "caps"
    for c, toy in (("open_hand", "open"), ("fist", "fist"), ("two", "victory")):
        (data / c).mkdir(parents=True)
        with open(data / c / "keypoints.jsonl", "w") as f:
            for src in ("alice.mp4", "bob.mp4"):
                kp = _toy(toy, 15, seed=hash((c, src)) % 1000)
                kp[..., :2] = kp[..., :2] * 80 + 200
                for i, k in enumerate(kp):
                    f.write(json.dumps({"keypoints": k.tolist(), "handedness": "Right", "source": src,
                                        "frame": i}) + "\n")
    rep = train_custom_gestures(data, bundle_path, tmp_path / "c.handsdk", CustomGestureOptions(
        epochs=3, examples_per_epoch=512, generic_negatives=60, held_out_sources=True, time_budget_s=60), progress=None)
    ho = rep["held_out_sources"]
    assert set(ho) == {"alice.mp4", "bob.mp4", "mean"}
    assert ho["alice.mp4"]["n"] == 45 and ho["mean"]["accuracy"] > 0.6


def test_flip_thumbs_turns_thumbs_up_into_thumbs_down():
    kp = _toy("thumb_up", 6)  # thumb extended, other fingers curled (toy hand: fingers up)
    kp[..., :2] = kp[..., :2] * 50 + 100
    rows = G.GestureRows(kp, np.array(["Right"] * 6, object), np.array(["thumbs_up"] * 3 + ["fist"] * 3, object),
                         np.array(["a"] * 6, object), np.array(["x"] * 6, object))
    f = G.flip_thumbs(rows)
    assert len(f) == 3 and set(f.labels) == {"thumbs_down"} and set(f.sources) == {"a/rot180"}
    # the thumb tip was above the wrist (y down), now it is below, and distances are kept
    assert (kp[:3, 4, 1] < kp[:3, 0, 1]).all() and (f.keypoints[:, 4, 1] > f.keypoints[:, 0, 1]).all()
    assert np.allclose(np.linalg.norm(f.keypoints[:, 4, :2] - f.keypoints[:, 0, :2], axis=1),
                       np.linalg.norm(kp[:3, 4, :2] - kp[:3, 0, :2], axis=1), atol=1e-3)
