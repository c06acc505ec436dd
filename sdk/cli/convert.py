"""`handsdk convert`: trained Keras models -> one bundle for a device."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from .common import fail, need_train_extra


def _choices(names) -> str:
    return "[" + "|".join(names) + "]"


def _device_names() -> list:
    from handsdk.devices import list_devices

    return list_devices()


def convert_many(detector, pose, gestures, formats, out_dir: Path, stem: str, **kw) -> dict:
    """Convert to several formats (used by `profile --compare`); a failing
    format is reported, never fatal. Returns {format: path or error}."""
    from handsdk.convert.api import convert_bundle

    out = {}
    for fmt in formats:
        path = out_dir / f"{stem}-{fmt}.handsdk"
        try:
            convert_bundle(detector, pose, gestures, fmt=fmt, output=path, **kw)
            out[fmt] = str(path)
        except Exception as e:  # the row says why
            out[fmt] = f"error: {e.__class__.__name__}: {e}"
    return out


def register(app: typer.Typer):
    # the formats table (no TensorFlow behind it) gives --format's and --fallback's choices and help
    from handsdk.convert.formats import FALLBACK_FORMATS, FORMATS, formats_help

    @app.command("convert")
    def convert(
        source: Optional[Path] = typer.Argument(None, metavar="[BUNDLE]",
                                                help="a bundle to convert to --format: its models are converted "
                                                     "again from the Keras models it was made from (its "
                                                     "provenance, or train/weights), with its thresholds, "
                                                     "decoding, gesture sets and provenance"),
        detector: Optional[Path] = typer.Option(None, "--detector", help="trained detector (run folder or .keras); "
                                                                         "its thresholds.json gives the bundle's"),
        pose: Optional[Path] = typer.Option(None, "--pose", help="trained pose model (run folder or .keras)"),
        gesture: List[Path] = typer.Option([], "--gesture", help="trained GestureNet(s); repeat for several sets"),
        fmt: str = typer.Option("fp32", "--format", metavar=_choices(FORMATS), help=formats_help(),
                                autocompletion=lambda: list(FORMATS)),
        device: Optional[str] = typer.Option(None, "--device", help="target device profile (handsdk devices list); "
                                                                    "a note says when --format is not its format",
                                             autocompletion=_device_names),
        output: Path = typer.Option(..., "-o", "--output", help="the bundle to write (.handsdk)"),
        data: str = typer.Option("auto", "--data", help="calibration/parity data: auto, synthetic or a shared set"),
        data_root: Optional[Path] = typer.Option(None, "--data-root", help="shared data folder (or $HANDSDK_DATA)"),
        calibration: int = typer.Option(64, "--calibration", min=4, help="calibration samples"),
        parity: int = typer.Option(32, "--parity", min=1, help="samples to measure parity on"),
        qat_steps: int = typer.Option(200, "--qat-steps", min=1, help="qat-int8: quantisation-aware fine-tuning steps"),
        strict: bool = typer.Option(False, "--strict", help="fail when a model loses more than the tolerance"),
        fallback: Optional[str] = typer.Option(None, "--fallback", metavar=_choices(FALLBACK_FORMATS),
                                               autocompletion=lambda: list(FALLBACK_FORMATS),
                                               help="convert a model that loses accuracy in --format to this "
                                                    "format instead (e.g. fp16)"),
        report: Optional[Path] = typer.Option(None, "--report", help="write the conversion report as JSON"),
    ):
        """Quantise and convert the three models into one bundle, measuring each
        converted model's parity with its Keras model. The bundle gets the
        thresholds the models were calibrated with (each folder's
        thresholds.json); give a BUNDLE to convert it to another format."""
        if source is None and not (detector and pose and gesture):
            fail("give --detector, --pose and --gesture (trained models), or a bundle to convert "
                 "(handsdk convert sdk/models/default.handsdk --format fp16 -o x.handsdk)")
        if source is not None and gesture:
            fail("--gesture with a BUNDLE: the bundle names its gesture sets; convert the trained models "
                 "with --detector, --pose and --gesture instead")
        if source is not None and not source.is_file():
            fail(f"bundle not found: {source}")
        if fmt not in FORMATS:
            fail(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
        if fallback is not None and fallback not in FALLBACK_FORMATS:
            fail(f"--fallback must be a TFLite format, one of {', '.join(FALLBACK_FORMATS)} (got {fallback!r})")
        if device is not None:
            from handsdk.devices import list_devices

            if device not in list_devices():
                fail(f"unknown device {device!r}; known: {', '.join(list_devices())}")
        for name in (fmt, fallback):  # what this install lacks, once the arguments are right
            why = FORMATS[name].unavailable() if name else None
            if why:
                fail(why)
        need_train_extra("handsdk convert")
        from handsdk.bundle import BundleError
        from handsdk.convert.api import ConversionError, convert_bundle, convert_from_bundle

        kw = dict(fmt=fmt, output=output, device=device, data=data, data_root=data_root,
                  calibration_samples=calibration, parity_samples=parity, strict=strict, qat_steps=qat_steps,
                  fallback=fallback, progress=lambda m: typer.echo(m, err=True))
        try:
            if source is not None:
                rep = convert_from_bundle(source, overrides={"detector": detector, "landmarker": pose}, **kw)
            else:
                rep = convert_bundle(detector, pose, list(gesture), **kw)
        except (ConversionError, BundleError, FileNotFoundError, ValueError, ImportError) as e:
            fail(str(e))
        typer.echo(f"wrote {output} ({rep.size_bytes / 1024:.1f} KiB, {fmt})")
        for role, m in rep.models.items():
            typer.echo(f"  {role:<22} {m['format']:<8} {m['size_bytes'] / 1024:8.1f} KiB  parity {json.dumps(m['parity'])}")
        from handsdk.bundle import load_bundle

        th = load_bundle(output, check=False).thresholds
        typer.echo("  thresholds: " + ", ".join(f"{k} {v:g}" for k, v in th.items()))
        for w in rep.warnings:
            typer.secho(f"WARNING: {w}", fg=typer.colors.RED, err=True)
        if report:
            report.write_text(json.dumps(rep.to_dict(), indent=2))
