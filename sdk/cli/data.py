"""`handsdk data ...`: look at the training data (needs the ``train`` extra)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

app = typer.Typer(help="Training data: list the real sets and preview samples with their labels.",
                  no_args_is_help=True)


IMAGE_OUT = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def _fail(msg: str, code: int = 1):
    typer.echo(f"error: {msg}", err=True)
    raise typer.Exit(code)


@app.command("list")
def list_cmd(data_root: Optional[Path] = typer.Option(None, "--data-root", help="real-data root "
                                                      "(default: $HANDSDK_DATA or ../shared/data)")):
    """Which real datasets are present, with licence and whether shipped models may use them."""
    from handsdk.train.data.catalog import DATASET_INFO, data_root as _root
    from handsdk.train.data.registry import list_datasets

    try:
        root = _root(data_root)
    except FileNotFoundError as e:
        _fail(str(e))
    present = list_datasets(root)
    typer.echo(f"data root: {root}")
    for name, info in DATASET_INFO.items():
        mark = "present" if present.get(name) else "missing"
        ship = "shippable" if info.shippable else "eval-only"
        typer.echo(f"  {name:<22} {mark:<8} {ship:<10} {info.licence}")


def _load_preview_samples(source: str, n: int, seed: int, data_root, split):
    rng = np.random.default_rng(seed)
    if source == "synthetic" or source.startswith("synthetic"):
        from handsdk.train.data.sources import synthetic_source

        try:
            src = synthetic_source()
        except ImportError as e:
            _fail(f"no synthetic renderer available: {e}")
        return [src.sample(rng) for _ in range(n)]
    from handsdk.train.data.formats import ensure_image
    from handsdk.train.data.registry import DATASETS, load_dataset

    name = source.split(":", 1)[0]
    if name not in DATASETS and not Path(source).expanduser().is_dir():
        _fail(f"unknown source {source!r}: use 'synthetic', one of {sorted(DATASETS)} (optionally "
              f"name:split) or a folder of <class>/<images>")
    kw = {} if name == "gesture_keypoints_csv" else {"load_image": False}
    try:
        samples = load_dataset(source, split, data_root, **kw)
    except (FileNotFoundError, ValueError, KeyError) as e:
        _fail(str(e))
    if not samples:
        _fail(f"{source!r} has no samples")
    idx = rng.choice(len(samples), size=min(n, len(samples)), replace=False)
    return [ensure_image(samples[int(i)]) for i in sorted(idx)]


@app.command("preview")
def preview(source: str = typer.Option("synthetic", "--source", "-s",
                                       help="'synthetic', a dataset name (name:split) or a folder"),
            n: int = typer.Option(16, "--n", "-n", help="number of samples"),
            out: Path = typer.Option(Path("preview.png"), "--out", "-o",
                                     help=f"image to write ({', '.join(IMAGE_OUT)})"),
            seed: int = typer.Option(0, "--seed", help="which samples are drawn (the same seed, the same grid)"),
            split: Optional[str] = typer.Option(None, "--split", help="dataset split"),
            tile: int = typer.Option(256, "--tile", min=32, max=2048, help="tile size in pixels"),
            pipeline: Optional[str] = typer.Option(None, "--pipeline",
                                                   help="show the training examples made of the samples: "
                                                        "'frames' (detector) or 'crops' (landmarker)"),
            data_root: Optional[Path] = typer.Option(None, "--data-root",
                                                     help="real-data root (default: $HANDSDK_DATA or "
                                                          "../shared/data)")):
    """Draw samples with their labels (boxes, keypoints, skeleton/part masks) into a PNG grid."""
    if n < 1:
        _fail("--n must be at least 1")
    if out.suffix.lower() not in IMAGE_OUT:
        _fail(f"--out {out}: the file name must end in one of {', '.join(IMAGE_OUT)} (it picks the format)")
    if not out.parent.is_dir():
        _fail(f"--out {out}: the folder {out.parent} does not exist (create it first)")
    if pipeline is not None:
        from handsdk.train.data.preview import preview_grid as _grid, training_examples

        if pipeline not in ("frames", "crops"):
            _fail("--pipeline must be 'frames' or 'crops'")
        try:
            samples = training_examples(_load_preview_samples(source, n, seed, data_root, split), pipeline,
                                        tile, seed)[:n]
        except (FileNotFoundError, ValueError, KeyError, ImportError) as e:
            _fail(str(e))
        if not samples:
            _fail(f"{source!r} gave no {pipeline} (no images with hands?)")
        _write(_grid, samples, out, tile)
        typer.echo(f"wrote {out} ({len(samples)} {pipeline} examples from {source})")
        return
    samples = _load_preview_samples(source, n, seed, data_root, split)
    grid = None
    if all(s.image is not None for s in samples):
        try:  # the synthetic renderer's own preview when it has one (it draws images only)
            from handsdk.train.synth import preview_grid as grid  # type: ignore[attr-defined]
        except ImportError:
            pass
    if grid is None:  # (and keypoint-only samples, e.g. gesture_keypoints_csv: drawn in a box)
        from handsdk.train.data.preview import preview_grid as grid
    _write(grid, samples, out, tile)
    typer.echo(f"wrote {out} ({len(samples)} samples from {source})")


def _write(grid, samples, out: Path, tile: int):
    import cv2

    try:
        grid(samples, out, tile=tile)
    except (OSError, cv2.error, ValueError) as e:
        _fail(f"could not write {out}: {str(e).strip().splitlines()[-1]}")
    if not out.is_file():
        _fail(f"could not write {out} (is the folder writable?)")


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="data")
