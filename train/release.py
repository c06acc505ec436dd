"""Rebuild the default bundle that ships with handsdk, from the shared data,
in one command::

    handsdk build-default                 # train all four models, convert, evaluate, write
    handsdk build-default --no-train      # reuse finished runs under runs/default

Steps: train GestureNet on commands and on ASL letters, the detector and the
pose model with the configs in ``handsdk/train/configs`` (shippable data only:
synthetic renders, asl_letters, sign_language_digits, gesture_keypoints_csv);
convert them to one bundle (int8 by default, calibrated on real + synthetic
crops, parity measured); evaluate the bundle end to end on the shared
validation sets; write the evaluation into the manifest's provenance.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

CONFIG_DIR = Path(__file__).parent / "configs"

#: (task, config name, run folder name, config overrides; "{runs}" is the runs folder).
#: In order: GestureNets on MediaPipe keypoints, the detector, the pose model,
#: its rotation fine-tune and its upright-crop fine-tune, then (after an
#: interim bundle of those) both GestureNets again on the SDK's own keypoints.
PREVIOUS_STEPS = (
    ("gesture", "gesture_commands", "gesture_commands", {}),
    ("gesture", "gesture_asl", "gesture_asl", {}),
    ("detector", "detector_scene", "detector", {}),
    # 4 more epochs at a lower rate, selected on the scene score (the copy-paste
    # composite variant, detector_comp.yaml, was measured and not kept)
    ("detector", "detector_scene_ft", "detector_ft", {"train.init_from": "{runs}/detector"}),
    # the second detector stage: the first fine-tuned at 224x176 instead of 160x128 (small
    # hands: webcam_finger_counts/valid@0.4 found 0.73 -> 0.90), with presence 0.99 for a new hand
    ("detector", "detector_s224", "detector_s224", {"train.init_from": "{runs}/detector"}),
    # the shipped detector: 4 more epochs with smaller hands (60% of the frames zoomed
    # 0.25-1.6x): webcam_signs/valid@0.4 found 0.632 -> 0.750, webcam_finger_counts@0.4
    # small hands 0.802 -> 0.857
    ("detector", "detector_small", "detector_small", {"train.init_from": "{runs}/detector_s224"}),
    # hard negatives for the landmarker's presence: where the bundle that ships
    # today (a close-up detector: it fires on faces) finds hands on no hand
    ("mine", "hard_negatives", "hard_negatives.json", {}),
    ("mine", "hard_negatives_val", "hard_negatives_val.json", {}),
    ("pose", "pose_scene", "pose", {"data.hard_negatives": "{runs}/hard_negatives.json",
                                    "data.val_hard_negatives": "{runs}/hard_negatives_val.json"}),
    # where the new scene detector itself still fires on no hand (it needs the
    # interim bundle: detector + first-stage landmarker)
    ("mine", "hard_negatives_scene", "hard_negatives_scene.json", {"bundle": "{runs}/interim.handsdk"}),
    ("pose", "pose_scene_ft", "pose_ft", {"train.init_from": "{runs}/pose",
                                         "data.hard_negatives": "{runs}/hard_negatives.json,"
                                                                "{runs}/hard_negatives_scene.json",
                                         "data.val_hard_negatives": "{runs}/hard_negatives_val.json"}),
    ("pose", "pose_scene_ft2", "pose_ft2", {"train.init_from": "{runs}/pose_ft",
                                           "data.hard_negatives": "{runs}/hard_negatives.json,"
                                                                  "{runs}/hard_negatives_scene.json",
                                           "data.val_hard_negatives": "{runs}/hard_negatives_val.json"}),
    # the skeleton input as the runtime feeds it: the shipped detector's map on half the
    # training crops and every validation crop ("{shipped}": the bundle that ships today)
    ("pose", "pose_scene_ft7", "pose_ft7", {"train.init_from": "{runs}/pose_ft2",
                                           "data.hard_negatives": "{runs}/hard_negatives.json,"
                                                                  "{runs}/hard_negatives_scene.json",
                                           "data.val_hard_negatives": "{runs}/hard_negatives_val.json",
                                           "data.skeleton_bundle": "{shipped}"}),
    # the first pass on a detection: a rotation head trained alone on the fourth stage's
    # features, then the whole landmarker with 40% of its crops at any angle (the head
    # an auxiliary task, not exported): hand_keypoints_gt on the human box 0.296 -> 0.361
    ("pose", "pose_scene_rot", "pose_rot", {"train.init_from": "{runs}/pose_ft7",
                                          "data.hard_negatives": "{runs}/hard_negatives.json,"
                                                                 "{runs}/hard_negatives_scene.json",
                                          "data.val_hard_negatives": "{runs}/hard_negatives_val.json",
                                          "data.skeleton_bundle": "{shipped}"}),
    ("pose", "pose_scene_rot2", "pose_rot2", {"train.init_from": "{runs}/pose_rot",
                                            "data.hard_negatives": "{runs}/hard_negatives.json,"
                                                                   "{runs}/hard_negatives_scene.json",
                                            "data.val_hard_negatives": "{runs}/hard_negatives_val.json",
                                            "data.skeleton_bundle": "{shipped}"}),
    # presence that rejects faces: every face OpenCV's Haar cascades find in the shippable
    # scene frames, far from every known hand (python -m handsdk.train.data.faces), and the
    # boxes on no hand where the detector of the bundle that ships today fires (it was the
    # 224x176 stage when this ran), as presence negatives
    ("mine", "hard_negatives_s224", "hard_negatives_s224.json", {"bundle": "{shipped}"}),
    ("faces", "faces", "faces.json", {}),
    ("faces", "faces_val", "faces_val.json", {}),
    # the sixth stage: pose_scene_face2.yaml's recipe and negatives (it shipped before, as
    # step pose_face) with a presence head that reads every decoder scale, not only the
    # deepest features; at presence 0.97 it finds more hands than pose_scene_face2 at 0.99
    # with fewer false ones (int8, 300 frames per set: webcam_signs/valid found 0.882 ->
    # 0.941, asl_signers_studio false hands 0.263 -> 0.187)
    ("pose", "pose_scene_pscales", "pose_scales", {"train.init_from": "{runs}/pose_rot2/best_with_rotation.keras",
                                                   "data.hard_negatives": "{runs}/faces.json,"
                                                                          "{runs}/hard_negatives.json,"
                                                                          "{runs}/hard_negatives_scene.json,"
                                                                          "{runs}/hard_negatives_s224.json",
                                                   "data.val_hard_negatives": "{runs}/faces_val.json,"
                                                                              "{runs}/hard_negatives_val.json",
                                                   "data.skeleton_bundle": "{shipped}"}),
    ("gesture", "gesture_commands_pipeline", "gesture_commands_pipeline",
     {"data.pipeline": "{runs}/interim.handsdk"}),
    # the letters GestureNet learns the keypoints of the landmarker that ships (an fp32
    # bundle of the final detector and landmarker): asl_two_signers (held out) letters
    # end to end 0.497 with the first-stage interim's keypoints -> 0.573 (asl_letters/valid
    # 0.485 -> 0.492)
    ("gesture", "gesture_asl_pipeline", "gesture_asl_pipeline",
     {"data.pipeline": "{runs}/interim_final.handsdk"}),
)

#: the frames each mining step reads (shippable scene sets only)
PREVIOUS_MINE_SETS = {"hard_negatives": None,  # None: handsdk.train.data.mining.DEFAULT_SETS
             "hard_negatives_val": ("webcam_finger_counts/valid", "webcam_signs/valid"),
             "hard_negatives_scene": None, "hard_negatives_s224": None,
             # the face steps (None: handsdk.train.data.faces.DEFAULT_SETS)
             "faces": None, "faces_val": ("webcam_finger_counts/valid", "webcam_signs/valid")}

#: the runs that go into the shipped bundle
PREVIOUS_FINAL = {"detector": "detector_small", "pose": "pose_scales",
         "gestures": ("gesture_commands_pipeline", "gesture_asl_pipeline")}
#: the bundles the pipeline GestureNets' keypoints come from (fp32, built before they
#: train), by file name: the first-stage models (also the scene detector's mining) and the
#: final detector and landmarker
PREVIOUS_INTERIMS = {"interim.handsdk": {"detector": "detector", "pose": "pose",
                                "gestures": ("gesture_commands", "gesture_asl")},
            # (the 224x176 stage, not the shipped detector_small: the letters GestureNet trained
            # on detector_small's keypoints was worse on validation: macro-F1 0.468-0.496 over
            # four seeds against 0.515, asl_letters/valid letters end to end 0.523 vs 0.545)
            "interim_final.handsdk": {"detector": "detector_s224", "pose": "pose_scales",
                                      "gestures": ("gesture_commands", "gesture_asl")}}

#: the shipped bundle's score thresholds. Presence, end to end (int8 bundle with the
#: fourth-stage landmarker pose_ft7, up to 300 frames spread over each set; the int8
#: presence output moves in steps): 0.55 / 0.65 / 0.75 / 0.85 give webcam_signs/valid
#: hands found 0.838 / 0.824 / 0.824 / 0.794 with false hands per image 0.162 / 0.118 /
#: 0.044 / 0.000, asl_signers_studio false 0.597 / 0.577 / 0.573 / 0.560,
#: webcam_finger_counts/valid 0.996 found and 0.000 false at all four (an int8 build
#: calibrated on 64 crops; build-default's, on 128, gives 0.809 / 0.029 at 0.75): 0.75 (the
#: third-stage landmarker had 0.55: found 0.912 / 0.824, false 0.000 / 0.015 on
#: webcam_signs before / after the detector fine-tune). Commands 0.8 and letters 0.5
#: were chosen on held-out sources (python -m handsdk.train.gesture_eval).
#:
#: A new hand (every hand in IMAGE mode) needs presence 0.99, a tracked one 0.75
#: (``min_tracking_presence``): with the 224x176 detector, int8, 300 frames per set,
#: 0.75 / 0.95 / 0.99 / 0.995 give webcam_signs/valid found 0.971 / 0.971 / 0.941 / 0.926,
#: webcam_finger_counts/valid 1.000 / 1.000 / 0.996 / 0.993, false hands per image on
#: selfie_people 0.989 / 0.842 / 0.604 / 0.491 and asl_signers_studio 0.700 / 0.663 /
#: 0.530 / 0.477 (faces close to the camera reach 0.9; 0.996 is the int8 maximum), and
#: asl_letters / asl_two_signers letters unchanged (0.576 / 0.623 at 0.99).
#:
#: With the sixth-stage landmarker that ships (pose_scales: the presence reads every decoder scale)
#: a new hand needs 0.97: 0.99 / 0.97 / 0.95 give webcam_signs/valid found 0.926 / 0.941 /
#: 0.956, webcam_finger_counts/valid@0.4 0.816 / 0.938 / 0.956, false hands per image on
#: asl_signers_studio 0.070 / 0.187 / 0.267 and selfie_people 0.037 / 0.070 / 0.099 (the
#: sixth stage at 0.99: 0.882, 0.930, 0.263, 0.103).
PREVIOUS_THRESHOLDS = {"min_detection_score": 0.5, "min_presence_score": 0.97, "min_tracking_presence": 0.75,
              "min_gesture_score": 0.5, "min_gesture_score:commands": 0.8,
              "min_gesture_score:asl_letters": 0.5}

#: **The recipe from scratch** (issue 27, point 3; ``handsdk build-default --recipe
#: scratch``): every shipped model from one config, trained from random initialisation,
#: nothing read from a bundle shipped before. The hard negatives and the landmarker's
#: skeleton input come from the new detector through an interim bundle built in the same
#: run; a bundle needs a landmarker, so a short landmarker stage (``pose_interim``, 4
#: epochs, faces as its only negatives) is trained for it first and not shipped. The
#: configs are those of the runs in progress (``configs/experiments/``): detector_a224 (the
#: detector with anchors: one upright landmarker pass a new hand) and pose_mb96_a224 (the
#: 96 px landmarker on its map; the best point from scratch so far: 30 epochs of pose_mb128
#: at 128 px were lower on every set, docs/experiments.md); the thresholds are the shipped
#: ones until the recipe's bundle is calibrated.
_NEG_VAL = "{runs}/faces_val.json,{runs}/hard_negatives_val.json"
#: the first steps of the recipes that read no bundle shipped before: MediaPipe's landmark
#: model labels the hands in shippable frames that have no pseudo-label (python -m
#: handsdk.train.data.teacher), and the GestureNets on MediaPipe's keypoints
_TEACHER_AND_GESTURES = (
    ("teacher", "teacher", "teacher.json", {}),
    ("gesture", "gesture_commands", "gesture_commands", {}),
    ("gesture", "gesture_asl", "gesture_asl", {}),
)
_FACES = (("faces", "faces", "faces.json", {}), ("faces", "faces_val", "faces_val.json", {}))
#: a 4-epoch landmarker, only to make an interim bundle of a new detector (a bundle needs one)
_POSE_INTERIM = ("pose", "experiments/pose_mb96_a224", "pose_interim",
                 {"train.epochs": 4, "data.skeleton_bundle": "null", "data.teacher": "{runs}/teacher.json",
                  "data.hard_negatives": "{runs}/faces.json", "data.val_hard_negatives": "{runs}/faces_val.json"})
SCRATCH_STEPS = _TEACHER_AND_GESTURES + (
    ("detector", "experiments/detector_a224", "detector", {"data.teacher": "{runs}/teacher.json"}),
) + _FACES + (
    _POSE_INTERIM,
    ("mine", "hard_negatives", "hard_negatives.json", {"bundle": "{runs}/interim_detector.handsdk"}),
    ("mine", "hard_negatives_val", "hard_negatives_val.json", {"bundle": "{runs}/interim_detector.handsdk"}),
    ("pose", "experiments/pose_mb96_a224", "pose",
     {"data.teacher": "{runs}/teacher.json", "data.skeleton_bundle": "{runs}/interim_detector.handsdk",
      "data.hard_negatives": "{runs}/faces.json,{runs}/hard_negatives.json", "data.val_hard_negatives": _NEG_VAL}),
    ("gesture", "gesture_commands_pipeline", "gesture_commands_pipeline",
     {"data.pipeline": "{runs}/interim_final.handsdk"}),
    ("gesture", "gesture_asl_pipeline", "gesture_asl_pipeline", {"data.pipeline": "{runs}/interim_final.handsdk"}),
    ("motion", "motion", "motion", {}),
)


@dataclass(frozen=True)
class Recipe:
    """How a default bundle is built: the steps in order ((task, config, run,
    overrides); tasks ``gesture``/``detector``/``pose`` train a config,
    ``mine`` and ``faces`` find presence negatives, ``teacher`` labels hands
    with MediaPipe's landmark model, ``motion`` trains a motion set that is
    added to the bundle), the runs that ship (``final``), the interim bundles
    the steps read (``interims``), the frames each mining step reads and the
    bundle's thresholds."""

    name: str
    steps: tuple
    final: dict
    interims: dict
    mine_sets: dict
    thresholds: dict

    def counts(self) -> dict:
        """{task: number of steps}."""
        out: dict = {}
        for task, *_ in self.steps:
            out[task] = out.get(task, 0) + 1
        return out


#: **The recipe of the bundle that ships** (since 2026-12-08; ``handsdk build-default``):
#: detector_a224 (the detector with anchors, from random initialisation) and the 96 px
#: landmarker (pose_mb96: 30 epochs from random initialisation on the map of the
#: close-up-era detector detector_small, then three fine-tunes: pose_mb96_ft with the
#: teacher's hands, pose_mb96_ft_a224 on detector_a224's map, pose_mb96_fta_faces with the
#: presence weighted 4x on both detectors' boxes on no hand), the GestureNets retrained on
#: their keypoints. Nothing is read from a bundle shipped before: the interim bundles are
#: built in the same run (a bundle needs a landmarker: a 4-epoch ``pose_interim`` makes
#: detector_small's). The chain the previous bundle came from (detector_small and
#: pose_scales, ``PREVIOUS_STEPS``) is kept as ``--recipe previous``.
SHIPPED_STEPS = _TEACHER_AND_GESTURES + (
    # the close-up-era detector chain (the 96 px landmarker's first map)
    ("detector", "detector_scene", "detector", {}),
    ("detector", "detector_s224", "detector_s224", {"train.init_from": "{runs}/detector"}),
    ("detector", "detector_small", "detector_small", {"train.init_from": "{runs}/detector_s224"}),
) + _FACES + (
    _POSE_INTERIM,
    # boxes on no hand where detector_small fires (the close-up-era detector takes faces for hands)
    ("mine", "hard_negatives_s224", "hard_negatives_s224.json", {"bundle": "{runs}/interim_small.handsdk"}),
    ("mine", "hard_negatives_val", "hard_negatives_val.json", {"bundle": "{runs}/interim_small.handsdk"}),
    ("pose", "experiments/pose_mb96", "pose_mb96",
     {"data.skeleton_bundle": "{runs}/interim_small.handsdk",
      "data.hard_negatives": "{runs}/faces.json,{runs}/hard_negatives_s224.json", "data.val_hard_negatives": _NEG_VAL}),
    ("pose", "experiments/pose_mb96_ft", "pose_mb96_ft",
     {"train.init_from": "{runs}/pose_mb96/best_with_rotation.keras", "data.teacher": "{runs}/teacher.json",
      "data.skeleton_bundle": "{runs}/interim_small.handsdk",
      "data.hard_negatives": "{runs}/faces.json,{runs}/hard_negatives_s224.json", "data.val_hard_negatives": _NEG_VAL}),
    ("detector", "experiments/detector_a224", "detector_a224", {"data.teacher": "{runs}/teacher.json"}),
    ("mine", "hard_negatives_a224", "hard_negatives_a224.json", {"bundle": "{runs}/interim_a224.handsdk"}),
    ("pose", "experiments/pose_mb96_ft_a224", "pose_mb96_ft_a224",
     {"train.init_from": "{runs}/pose_mb96_ft/best_with_rotation.keras", "data.teacher": "{runs}/teacher.json",
      "data.skeleton_bundle": "{runs}/interim_a224.handsdk",
      "data.hard_negatives": "{runs}/faces.json,{runs}/hard_negatives_a224.json", "data.val_hard_negatives": _NEG_VAL}),
    ("pose", "experiments/pose_mb96_fta_faces", "pose_mb96_fta_faces",
     {"train.init_from": "{runs}/pose_mb96_ft_a224/best_with_rotation.keras", "data.teacher": "{runs}/teacher.json",
      "data.skeleton_bundle": "{runs}/interim_a224.handsdk",
      "data.hard_negatives": "{runs}/faces.json,{runs}/hard_negatives_a224.json,{runs}/hard_negatives_s224.json",
      "data.val_hard_negatives": _NEG_VAL}),
    ("gesture", "gesture_commands_pipeline", "gesture_commands_pipeline",
     {"data.pipeline": "{runs}/interim_final.handsdk"}),
    ("gesture", "gesture_asl_pipeline", "gesture_asl_pipeline", {"data.pipeline": "{runs}/interim_final.handsdk"}),
    ("motion", "motion", "motion", {}),
)
_GESTURES_MP = ("gesture_commands", "gesture_asl")
SHIPPED_FINAL = {"detector": "detector_a224", "pose": "pose_mb96_fta_faces",
                 "gestures": ("gesture_commands_pipeline", "gesture_asl_pipeline")}
SHIPPED_INTERIMS = {
    "interim_small.handsdk": {"detector": "detector_small", "pose": "pose_interim", "gestures": _GESTURES_MP},
    "interim_a224.handsdk": {"detector": "detector_a224", "pose": "pose_mb96_ft", "gestures": _GESTURES_MP},
    "interim_final.handsdk": {"detector": "detector_a224", "pose": "pose_mb96_fta_faces", "gestures": _GESTURES_MP}}
SHIPPED_MINE_SETS = {"hard_negatives_s224": None, "hard_negatives_a224": None,
                     "hard_negatives_val": ("webcam_finger_counts/valid", "webcam_signs/valid"),
                     "faces": None, "faces_val": ("webcam_finger_counts/valid", "webcam_signs/valid")}
#: the shipped bundle's thresholds: a new hand needs a detection score of 0.68 and presence
#: 0.99 (docs/experiments.md, "The presence on faces, and what ships"; int8 detector, fp16
#: landmarker, 200 frames a set). Presence alone at 0.97 / 0.99 / 0.995 leaves
#: asl_signers_studio 0.275 / 0.190 / 0.135 false hands per image with webcam_signs/valid
#: found 0.956 / 0.926 / 0.897. With the detection score as a second gate, at 0.68 / 0.99:
#: webcam_signs found 0.971, webcam_finger_counts@0.4 0.959, false hands 0.180 (studio),
#: 0.150 (its 4:3 view), 0.060 (selfie_people), on those frames no worse than the bundle
#: shipped before; on all 1782 studio frames 0.214 against its 0.207 (while it reports 71% of
#: MediaPipe's hands there, not 47%); asl_letters/valid hands found 0.979 (0.66: 0.993, but
#: selfie 0.085; 0.73: 0.826, the score gate drops close-ups).
SHIPPED_THRESHOLDS = dict(PREVIOUS_THRESHOLDS, min_detection_score=0.68, min_presence_score=0.99)

SHIPPED = Recipe("shipped", SHIPPED_STEPS, SHIPPED_FINAL, SHIPPED_INTERIMS, SHIPPED_MINE_SETS, SHIPPED_THRESHOLDS)
#: the shipped recipe's steps, final runs, interim bundles and thresholds
STEPS, FINAL, INTERIMS, MINE_SETS, THRESHOLDS = (SHIPPED_STEPS, SHIPPED_FINAL, SHIPPED_INTERIMS, SHIPPED_MINE_SETS,
                                                 SHIPPED_THRESHOLDS)
#: the chain of fine-tunes the bundle shipped before 2026-12-08 came from (detector_small and
#: pose_scales). Several of its steps read the bundle that ships today, which is no longer
#: that bundle: it does not rebuild it exactly any more
PREVIOUS = Recipe("previous", PREVIOUS_STEPS + (("motion", "motion", "motion", {}),), PREVIOUS_FINAL, PREVIOUS_INTERIMS,
                  PREVIOUS_MINE_SETS, PREVIOUS_THRESHOLDS)
SCRATCH = Recipe("scratch", SCRATCH_STEPS,
                 {"detector": "detector", "pose": "pose",
                  "gestures": ("gesture_commands_pipeline", "gesture_asl_pipeline")},
                 {"interim_detector.handsdk": {"detector": "detector", "pose": "pose_interim",
                                               "gestures": ("gesture_commands", "gesture_asl")},
                  "interim_final.handsdk": {"detector": "detector", "pose": "pose",
                                            "gestures": ("gesture_commands", "gesture_asl")}},
                 {"hard_negatives": None, "hard_negatives_val": ("webcam_finger_counts/valid", "webcam_signs/valid"),
                  "faces": None, "faces_val": ("webcam_finger_counts/valid", "webcam_signs/valid")},
                 SHIPPED_THRESHOLDS)
RECIPES = {r.name: r for r in (SHIPPED, SCRATCH, PREVIOUS)}


def get_recipe(recipe) -> Recipe:
    """A :class:`Recipe` or the name of one of :data:`RECIPES`."""
    if isinstance(recipe, Recipe):
        return recipe
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}; one of {', '.join(RECIPES)}")
    return RECIPES[recipe]


#: evaluation sets: (dataset, split, gesture set to score or None)
EVALUATION = (
    ("asl_letters", "valid", "asl_letters"),
    ("hand_keypoints_gt", None, None),
    ("asl_two_signers", None, "asl_letters"),
    ("sign_language_digits", "valid", None),
    ("webcam_finger_counts", "valid", None),
    ("webcam_finger_counts@0.4", "valid", None),  # the same frames shrunk: small hands (far_view)
    ("webcam_signs", "valid", None),
    ("asl_signers_studio", None, None),
    ("asl_signers_studio~4:3", None, None),  # the same frames widened back to 4:3 (stored stretched)
    ("selfie_people", None, None),  # faces close to the camera: false hands
)


def _train(task: str, config: Path, out: Path, progress, overrides: dict | None = None):
    cmd = [sys.executable, "-m", "handsdk.cli", "train", task, "--config", str(config), "--out", str(out)]
    for k, v in (overrides or {}).items():
        cmd += ["--set", f"{k}={v}"]
    progress(f"$ {' '.join(cmd)}")
    log = out.with_suffix(".log")
    out.parent.mkdir(parents=True, exist_ok=True)
    from handsdk.train.progress import EPOCH_LINES, run_logged

    # each epoch's header and summary line (loss, validation metrics) as it ends
    rc = run_logged(cmd, log, show=EPOCH_LINES, on_line=lambda ln: progress(f"  {out.name}: {ln}"),
                    env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if rc != 0:
        tail = log.read_text()[-2000:]
        raise RuntimeError(f"training {task} ({config.name}) failed (exit {rc}); log {log}:\n{tail}")


def evaluation_samples(name: str, split, root=None, limit: int = 300):
    """The evaluation frames of ``name`` (a set, ``set@F`` or ``set~W:H``),
    spread over the set (its files are sorted by class: the first N would be a
    few letters), only the chosen images decoded; None when the set is absent."""
    from handsdk.train.data.catalog import has_data
    from handsdk.train.data.formats import ensure_image
    from handsdk.train.data.registry import load_dataset, spread
    from handsdk.train.data.sample import split_view

    base, view = split_view(name)
    if not has_data(root, base):
        return None
    samples = [s for s in load_dataset(base, split=split, root=root, load_image=False) if s.path]
    samples = [ensure_image(samples[i]) for i in spread(len(samples), limit)]
    return [view(s) for s in samples if s.image is not None] if view is not None else samples


def commands_table(name: str) -> dict | None:
    """The class -> command table of an evaluation set whose hands people labelled
    one by one (:data:`~handsdk.train.data.gestures.SCENE_COMMANDS`; ``name`` may
    carry a view, ``set@0.4``), for ``evaluate(..., commands=)``; None for the others."""
    from handsdk.train.data.gestures import SCENE_COMMANDS
    from handsdk.train.data.sample import split_view

    return SCENE_COMMANDS.get(split_view(name)[0])


def evaluate_bundle(bundle_path, *, data_root=None, limit: int = 300, progress=print) -> dict:
    """End-to-end evaluation of a bundle on the shared validation sets that
    are present (skipped when the data is absent)."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions
    from handsdk.train.evaluation import evaluate

    out = {}
    for name, split, gset in EVALUATION:
        samples = evaluation_samples(name, split, data_root, limit)
        if samples is None:
            continue
        with GestureRecognizer(GestureRecognizerOptions(bundle=bundle_path, color_order="RGB", max_hands=2)) as rec:
            t0 = time.perf_counter()
            r = evaluate(rec, samples, gesture_set=gset if gset in rec.classifiers else None,
                         commands=commands_table(name))
        r["seconds"] = round(time.perf_counter() - t0, 1)
        out[f"{name}/{split}" if split else name] = r
        progress(f"evaluated {name}: {json.dumps(_short(r))}")
    return out


def _short(r: dict) -> dict:
    s = {"detection_rate": round(r.get("detection_rate", float("nan")), 3)}
    if r.get("scene"):
        sc = r["scene"]
        s["found_on_human_box"] = None if sc["found_rate"] is None else round(sc["found_rate"], 3)
        s["false_hands_per_image"] = round(sc["false_per_image"], 3)
    if "detection" in r:
        s["ap"] = round(r["detection"].get("ap", float("nan")), 3)
    kp = r.get("keypoints_on_gt_box", {}).get("all")
    if kp:
        s["pck@0.2_gt_box"] = round(kp["pck@0.2"], 3)
    kp = r.get("keypoints_end_to_end", {}).get("all")
    if kp:
        s["pck@0.2_e2e"] = round(kp["pck@0.2"], 3)
    if r.get("gesture", {}).get("samples"):
        s["gesture_acc"] = round(r["gesture"]["accuracy"], 3)
    c = r.get("commands_per_hand") or {}
    if c.get("hands"):  # the same GestureNet on the SDK's keypoints and on MediaPipe's, the same hands
        s["commands_hands"] = c["hands"]
        s["commands_sdk"] = round(c["sdk_accuracy"], 3)
        s["commands_mediapipe"] = round(c["mediapipe_accuracy"], 3)
    return s


def with_provenance(bundle_path, extra: dict, output=None) -> bytes:
    """Rewrite a bundle with ``extra`` merged into its provenance (models,
    labels and thresholds unchanged; the result is validated again)."""
    from handsdk.bundle import GestureSet, build_bundle, load_bundle

    b = load_bundle(bundle_path)
    gestures = {n: GestureSet.from_decoding(b.files[e.file], e.labels, e.decoding, quantization=e.quantization,
                                            metrics=e.extra.get("metrics", {}))
                for n, e in b.gesture_sets.items()}
    return build_bundle(output or bundle_path, detector=b.model_bytes("detector"),
                        landmarker=b.model_bytes("landmarker"), gestures=gestures,
                        detector_decoding=b.detector.decoding, landmarker_decoding=b.landmarker.decoding,
                        quantization={"detector": b.detector.quantization, "landmarker": b.landmarker.quantization},
                        thresholds=b.thresholds, provenance=dict(b.provenance, **extra),
                        name=b.manifest.get("name", "handsdk"))


#: where the Keras weights of the shipped models are committed (users convert the
#: default models to any format, or fine-tune them with ``train.init_from``)
WEIGHTS_DIR = Path(__file__).parent / "weights"


def export_weights(runs, dest=WEIGHTS_DIR, final=None, progress=print, thresholds=None, motion=()) -> dict:
    """Copy the shipped runs' models (``best.keras`` without optimizer state)
    and their ``metadata.json`` into ``dest/<run>/``, and the motion runs
    named in ``motion`` (their model, metadata and report: the set
    ``handsdk convert --gesture`` takes). Returns {run: bytes}."""
    import shutil

    from handsdk.train.trainer import load_exported

    final = final or FINAL
    out = {}
    dest = Path(dest)
    for name in [final["detector"], final["pose"], *final["gestures"]]:
        src = Path(runs) / name
        d = dest / name
        d.mkdir(parents=True, exist_ok=True)
        load_exported(src / "best.keras").save(d / "best.keras")  # loaded uncompiled: no optimizer state
        for extra in ("metadata.json",):
            if (src / extra).is_file():
                shutil.copyfile(src / extra, d / extra)
        write_thresholds(d, name, final, thresholds)
        out[name] = (d / "best.keras").stat().st_size
        progress(f"weights {name}: {out[name] / 1024:.0f} KiB -> {d}")
    for name in motion:
        src, d = Path(runs) / name, dest / name
        if not (src / "best.keras").is_file():
            continue
        d.mkdir(parents=True, exist_ok=True)
        for f in ("best.keras", "metadata.json", "report.json"):
            if (src / f).is_file():
                shutil.copyfile(src / f, d / f)
        out[name] = (d / "best.keras").stat().st_size
        progress(f"weights {name} (motion): {out[name] / 1024:.0f} KiB -> {d}")
    for d in sorted(dest.iterdir()):  # weights of runs no longer shipped
        if d.is_dir() and d.name not in out and (d / "best.keras").is_file():
            shutil.rmtree(d)
            progress(f"removed stale weights {d}")
    return out


def write_thresholds(folder, run: str, final=None, thresholds=None) -> dict:
    """Write ``folder/thresholds.json``: the part of the shipped bundle's
    :data:`THRESHOLDS` that belongs to the model of ``run`` (a FINAL run), so
    that ``handsdk convert`` of the weights gives the shipped thresholds."""
    from handsdk.convert.api import THRESHOLDS_FILE, split_thresholds

    final = final or FINAL
    th = thresholds or THRESHOLDS
    if run == final["detector"]:
        role = "detector"
    elif run == final["pose"]:
        role = "landmarker"
    else:
        md = json.loads((Path(folder) / "metadata.json").read_text())
        # (as handsdk convert names a GestureNet's set: its metadata's, else its config's)
        ls = md.get("label_set") or (md.get("config") or {}).get("model", {}).get("label_set") or "gestures"
        role = f"gesture:{ls}"
    part = split_thresholds(th, role)
    (Path(folder) / THRESHOLDS_FILE).write_text(json.dumps(part, indent=1) + "\n")
    return part


def mined_sources(recipe="shipped") -> list[str]:
    """``real:<set>`` of every scene set whose frames the mining steps of
    ``recipe`` read for the landmarker's training (their hard negatives train
    its presence)."""
    from handsdk.train.data.mining import DEFAULT_SETS

    r = get_recipe(recipe)
    # only the mined files that train (data.hard_negatives), not those that validate
    train_files = {Path(f).name for _, _, _, ov in r.steps
                   for f in str(ov.get("data.hard_negatives", "")).split(",") if f}
    from handsdk.train.data.faces import DEFAULT_SETS as FACE_SETS

    sets = {x for task, cfg, name, _ in r.steps if task in ("mine", "faces") and name in train_files
            for x in (r.mine_sets[cfg] or (DEFAULT_SETS if task == "mine" else FACE_SETS))}
    return sorted(f"real:{x}" for x in sets)


def data_credits(training_data, data_root=None) -> dict:
    """{set: {"licence", "source"}} for every shared set named in
    ``training_data`` (``real:<set>/<split>``, ``pipeline:<set>``,
    ``gestures:commands`` = its mapped sources): the credit that CC BY and
    MIT data need, from ``DATASET_INFO`` and the set's SOURCE.txt."""
    from handsdk.train.data.catalog import DATASET_INFO, data_root as _root

    names = set()
    for t in training_data:
        kind, _, rest = str(t).partition(":")
        if kind in ("real", "pipeline"):
            names.add(rest.split("/")[0])
        elif kind == "gestures":
            from handsdk.train.data.gestures import PHOTO_SOURCES

            names.update(("gesture_keypoints_csv",) + tuple(PHOTO_SOURCES))
    out = {}
    try:
        root = _root(data_root)
    except FileNotFoundError:
        root = None
    for n in sorted(x for x in names if x in DATASET_INFO):
        info = DATASET_INFO[n]
        src = ""
        f = root / info.folder / "SOURCE.txt" if root is not None else None
        if f is not None and f.is_file():
            first = f.read_text(encoding="utf-8", errors="replace").strip().splitlines()[:1]
            src = first[0][:300] if first else ""
        out[n] = {"licence": info.licence, "shippable": info.shippable, "source": src}
    return out


def _interim(runs: Path, path, built: set, train: bool, data_root, progress, interims=None) -> None:
    """Build an interim fp32 bundle (``interims``, default :data:`INTERIMS`, by
    the file name of ``path``) once per rebuild (or when it is missing)."""
    from handsdk.convert.api import convert_bundle

    interims = INTERIMS if interims is None else interims
    if Path(path).is_file() and (not train or path in built):
        return
    spec = interims.get(Path(path).name)
    if spec is None:
        raise ValueError(f"no interim bundle is named {Path(path).name!r} (known: {', '.join(interims)})")
    built.add(path)
    progress(f"building the interim bundle {Path(path).name} ({spec['detector']} + {spec['pose']}: the scene "
             f"detector's mining, the pipeline GestureNets' keypoints) ...")
    convert_bundle(runs / spec["detector"], runs / spec["pose"], [runs / g for g in spec["gestures"]],
                   fmt="fp32", output=path, data="auto", data_root=data_root, name="handsdk-interim",
                   progress=progress)


def _finished(task: str, run: Path) -> bool:
    """Whether a step's run is there to reuse: the file a mining, face or
    teacher step writes, a motion run's report, a trained run's model."""
    if task in ("mine", "faces", "teacher"):
        return run.is_file()
    if task == "motion":
        return (run / "report.json").is_file()
    return (run / "best.keras").exists()


def build_default_bundle(output=None, *, runs: str | os.PathLike = "runs/default", fmt: str = "int8",
                         train: bool = True, data_root=None, evaluate: bool = True,
                         weights_dir=WEIGHTS_DIR, recipe="shipped", progress: Callable[[str], None] = print) -> dict:
    """Train (unless ``train`` is False and the runs exist), convert and
    evaluate the default bundle by ``recipe`` (:data:`RECIPES`, or a
    :class:`Recipe`). Returns a report."""
    from handsdk.bundle import default_bundle_path
    from handsdk.convert.api import convert_bundle

    r = get_recipe(recipe)
    runs = Path(runs)
    output = Path(output) if output else (Path(__file__).resolve().parents[1] / "sdk" / "models" / "default.handsdk")
    t0 = time.perf_counter()
    built: set = set()
    for task, cfg, name, overrides in r.steps:
        run = runs / name
        overrides = {k: str(v).replace("{runs}", str(runs)).replace("{shipped}", str(default_bundle_path()))
                     for k, v in overrides.items()}
        if not train and _finished(task, run):
            progress(f"reusing {run}")
            continue
        if task == "mine":
            from handsdk.train.data import mining

            bundle = overrides.get("bundle")
            if bundle and Path(bundle).name in r.interims:  # (else the bundle that ships today)
                _interim(runs, bundle, built, train, data_root, progress, r.interims)
            progress(f"mining {name} with the detector of {bundle or 'the shipped bundle'} ...")
            mining.save(mining.mine(bundle or default_bundle_path(), r.mine_sets[cfg] or mining.DEFAULT_SETS,
                                    root=data_root, progress=progress), run)
            continue
        if task == "faces":
            from handsdk.train.data import faces, mining

            progress(f"finding faces for {name} (OpenCV's Haar cascades, in the MediaPipe environment) ...")
            mining.save(faces.mine_faces(r.mine_sets[cfg] or faces.DEFAULT_SETS, root=data_root, log=progress), run)
            continue
        if task == "teacher":
            from handsdk.train.data import teacher

            progress(f"labelling the hands with no pseudo-label for {name} (MediaPipe's landmark model) ...")
            teacher.save(teacher.label_sets(root=data_root, progress=progress), run)
            continue
        if task == "motion":
            from handsdk.train.models.motion.train import train_motion

            progress(f"training the motion set {name} ...")
            train_motion(CONFIG_DIR / f"{cfg}.yaml", run, progress=progress)
            continue
        for key in ("data.pipeline", "data.skeleton_bundle"):  # (an interim bundle the run reads)
            if Path(str(overrides.get(key, ""))).name in r.interims:
                _interim(runs, overrides[key], built, train, data_root, progress, r.interims)
        config = CONFIG_DIR / f"{cfg}.yaml"
        if not config.is_file():
            raise FileNotFoundError(f"step {name}: no config {config} (the recipe's configs are in a checkout of "
                                    f"the project, not in the wheel)")
        progress(f"training {name} ...")
        _train(task, config, run, progress, overrides)
    output.parent.mkdir(parents=True, exist_ok=True)
    rep = convert_bundle(runs / r.final["detector"], runs / r.final["pose"], [runs / g for g in r.final["gestures"]],
                         fmt=fmt, output=output, device=None,  # (the default bundle is for every device)
                         data="auto", data_root=data_root, name="handsdk-default", parity_samples=128,
                         fallback="fp16" if fmt in ("int8", "qat-int8") else None, thresholds=r.thresholds,
                         progress=progress)
    report = {"output": str(output), "format": fmt, "size_bytes": rep.size_bytes, "conversion": rep.to_dict(),
              "recipe": r.name}
    from handsdk.train.models.motion.train import add_motion_run

    for task, _, name, _ in r.steps:  # the motion sets join the bundle as trained
        if task == "motion":
            add_motion_run(runs / name, output, progress=progress)
    if weights_dir is not None:
        report["weights"] = export_weights(runs, weights_dir, final=r.final, progress=progress,
                                           motion=[name for task, _, name, _ in r.steps if task == "motion"],
                                           thresholds=r.thresholds)
    from handsdk import load_bundle

    # the mined frames (presence negatives) are training data too
    training = list(load_bundle(output).provenance.get("training_data", ())) + mined_sources(r)
    training = sorted(set(training))
    credits = data_credits(training, data_root)
    extra = {"data_credits": credits, "training_data": training}
    if evaluate:
        ev = evaluate_bundle(output, data_root=data_root, progress=progress)
        extra.update({"evaluation": ev, "rebuild": "handsdk build-default"
                      + ("" if r.name == "shipped" else f" --recipe {r.name}")})
        report["evaluation"] = ev
    with_provenance(output, extra)
    report["size_bytes"] = output.stat().st_size  # with the provenance written last
    report["minutes"] = round((time.perf_counter() - t0) / 60, 1)
    return report
