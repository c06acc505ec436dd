"""`handsdk build-default`: retrain and rebuild the shipped default bundle."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import fail, need_train_extra


def register(app: typer.Typer):
    # --format's choices come from the formats table (no TensorFlow behind it), as for `handsdk convert`
    from handsdk.convert.formats import FORMATS

    from .convert import _choices

    @app.command("build-default")
    def build_default(
        output: Optional[Path] = typer.Option(None, "-o", "--output",
                                              help="bundle to write (default: sdk/models/default.handsdk)"),
        runs: Path = typer.Option(Path("runs/default"), "--runs", help="where the training runs go"),
        fmt: str = typer.Option("int8", "--format", metavar=_choices(FORMATS), autocompletion=lambda: list(FORMATS),
                                help="bundle format, a row of the formats table (int8 is the shipped one)"),
        train: bool = typer.Option(True, "--train/--no-train", help="retrain, or reuse finished runs"),
        data_root: Optional[Path] = typer.Option(None, "--data-root", help="shared data (or $HANDSDK_DATA)"),
        evaluate: bool = typer.Option(True, "--evaluate/--no-evaluate",
                                      help="evaluate the bundle on the validation sets (its manifest records it)"),
        recipe: str = typer.Option("shipped", "--recipe",
                                   help="shipped: the steps the shipped bundle came from (no bundle shipped "
                                        "before is read); scratch: every model from random initialisation, one "
                                        "config each (the next default, in progress); previous: the chain of "
                                        "fine-tunes of the bundle shipped before 2026-12-08"),
    ):
        """Train the default models on the shippable shared data, convert them into one bundle,
        add the motion set and evaluate it. The shipped recipe: 20 steps (the teacher's labels, 13
        trainings, 3 hard-negative minings, 2 face findings, the motion set), about 5 hours on 2 CPU
        cores, resumable (--no-train reuses the finished steps); --recipe scratch: 13 steps (the
        teacher's labels, 7 trainings, 2 minings, 2 face findings, the motion set)."""
        if fmt not in FORMATS:
            fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        need_train_extra("handsdk build-default")
        why = FORMATS[fmt].unavailable()
        if why:
            fail(why)
        from handsdk.train.release import RECIPES, build_default_bundle

        if recipe not in RECIPES:
            fail(f"unknown recipe {recipe!r}; choose one of {', '.join(RECIPES)}")

        import time

        t0 = time.monotonic()

        def progress(m: str):  # each step's lines carry the elapsed time (the whole run: about 5 h)
            s = int(time.monotonic() - t0)
            typer.echo(f"[{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}] {m}", err=True)
        try:
            rep = build_default_bundle(output, runs=runs, fmt=fmt, train=train, data_root=data_root,
                                       evaluate=evaluate, recipe=recipe, progress=progress)
        except (RuntimeError, FileNotFoundError, ValueError) as e:
            fail(str(e))
        typer.echo(json.dumps({k: v for k, v in rep.items() if k != "conversion"}, indent=1, default=str))
