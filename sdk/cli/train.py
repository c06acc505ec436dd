"""`handsdk train detector|pose|gesture --config <yaml>` and `handsdk train
evaluate`: training and evaluation of the three models (needs the train extra)."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from .common import fail

app = typer.Typer(help="Train and evaluate the detector, landmarker (pose) and GestureNet models "
                       "(needs the train extra: pip install 'handsdk\\[train]').", no_args_is_help=True)

TRAIN_EXTRA = "needs the train extra: pip install 'handsdk[train]'"


def _need_tf(what: str):
    try:
        from handsdk.train.tf import tf  # noqa: F401
        import yaml  # noqa: F401
    except ImportError:
        fail(f"`handsdk train {what}` {TRAIN_EXTRA}")


def _parse_overrides(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            fail(f"--set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            import yaml

            out[k] = yaml.safe_load(v)
        except Exception:
            out[k] = v
    return out


def _run(task: str, config: Path, resume: bool, out: Optional[Path], overrides):
    _need_tf(task)
    from handsdk.train.config import ConfigError, load_config

    ov = _parse_overrides(overrides)
    if sys.stdout.isatty() and "train.verbose" not in ov:
        ov["train.verbose"] = 1  # a progress bar per epoch at a terminal (configs log one line per epoch)
    try:
        cfg = load_config(config, ov)
    except ConfigError as e:
        fail(str(e))
    if cfg.task != task:
        fail(f"{config} is a {cfg.task!r} config, not {task!r}")
    from handsdk.train.trainer import train

    summary = train(cfg, out=out, resume=resume)
    best = summary.get("best") or {}
    typer.echo(f"done in {summary['seconds']:.0f}s: best {best.get('value')} at epoch {best.get('epoch')}; "
               f"model {summary['out']}/best.keras")
    if summary.get("val"):
        typer.echo(json.dumps(summary["val"], indent=1, default=str))


_CONFIG = typer.Option(..., "--config", "-c", help="YAML config (see train/configs/)")
_RESUME = typer.Option(False, "--resume", help="continue from the last checkpoint in the output folder")
_OUT = typer.Option(None, "--out", "-o", help="output folder (default: the config's `out`)")
_SET = typer.Option(None, "--set", help="override a config value, e.g. --set train.epochs=3")


@app.command("detector")
def detector(config: Path = _CONFIG, resume: bool = _RESUME, out: Optional[Path] = _OUT,
             set_: Optional[List[str]] = _SET):
    """Train the hand detector (skeleton-map U-Net)."""
    _run("detector", config, resume, out, set_)


@app.command("pose")
def pose(config: Path = _CONFIG, resume: bool = _RESUME, out: Optional[Path] = _OUT,
         set_: Optional[List[str]] = _SET):
    """Train the landmarker (skeleton-aware multi-scale heatmaps)."""
    _run("pose", config, resume, out, set_)


@app.command("gesture")
def gesture(config: Optional[Path] = typer.Option(None, "--config", "-c", help="YAML config (see train/configs/)"),
            resume: bool = _RESUME,
            out: Optional[Path] = typer.Option(None, "--out", "--output", "-o",
                                               help="output folder (--config), or the bundle to write (--data)"),
            set_: Optional[List[str]] = _SET,
            data: Optional[Path] = typer.Option(None, "--data", help="custom gestures: a dataset folder written "
                                                                     "by `handsdk capture`"),
            base: Optional[Path] = typer.Option(None, "--base", help="custom gestures: the bundle whose detector, "
                                                                     "pose model and gesture sets are kept "
                                                                     "(default: the shipped one)"),
            set_name: str = typer.Option("custom", "--set-name", help="custom gestures: name of the new set "
                                                                      "(an existing set of that name is replaced)")):
    """Train a GestureNet (keypoint features -> gesture classes).

    With --data: custom gestures from captured keypoints, written as a new
    bundle (-o my.handsdk) with the base bundle's models and sets plus the new
    set; --set epochs=60, time_budget_s=60, quantization=fp32|dynamic|int8,
    seed=0 ... tune it (see handsdk.train.custom)."""
    if data is not None:
        _need_tf("gesture --data")
        from handsdk.train.custom import CustomTrainingError, train_from_cli

        try:
            train_from_cli(data, base, out, set_name, _parse_overrides(set_), echo=typer.echo)
        except CustomTrainingError as e:
            fail(str(e))
        return
    if config is None:
        fail("give --config <yaml> (train from a config) or --data <folder> (custom gestures captured with "
             "`handsdk capture`) with --base <bundle> -o my.handsdk")
    _run("gesture", config, resume, out, set_)


@app.command("evaluate")
def evaluate(task: str = typer.Argument(..., help="detector, pose or gesture"),
             model: Path = typer.Option(..., "--model", "-m", help="best.keras (metadata.json beside it)"),
             data: List[str] = typer.Option(..., "--data", "-d",
                                            help="source, e.g. real:asl_letters/valid, "
                                                 "'real:gesture_keypoints_csv/AladdinT'"),
             skeleton: str = typer.Option("gt", help="pose skeleton input: gt, none or detector"),
             detector_model: Optional[Path] = typer.Option(None, "--detector", help="detector for --skeleton detector"),
             limit: Optional[int] = typer.Option(None, help="at most this many samples per source"),
             out: Optional[Path] = typer.Option(None, "--out", "-o", help="folder for plots and eval JSON")):
    """Evaluate a trained model on data sources (metrics printed as JSON)."""
    if task not in ("detector", "pose", "gesture"):
        fail(f"task must be detector, pose or gesture, got {task!r}")
    if not model.is_file():
        fail(f"model not found: {model}")
    _need_tf("evaluate")
    from handsdk.train.evaluate import evaluate_model

    res = evaluate_model(task, model, list(data), skeleton=skeleton, detector_path=detector_model,
                         limit=limit, out=out)
    typer.echo(json.dumps({k: {kk: vv for kk, vv in v.items() if not isinstance(vv, (list, dict))}
                           for k, v in res.items()}, indent=1, default=str))
