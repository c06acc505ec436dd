"""`handsdk profile`: latency, size, memory and accuracy of bundles."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import List, Optional

import typer

from .common import fail


def register(app: typer.Typer):
    @app.command("profile")
    def profile(
        bundle: List[Path] = typer.Option([], "--bundle", help="bundle(s) to profile; repeat to compare "
                                                               "(default: the shipped bundle)"),
        device: Optional[str] = typer.Option(None, "--device", help="device profile for threads and camera size"),
        data: Optional[str] = typer.Option(None, "--data", help="labelled set for accuracy (e.g. asl_letters)"),
        data_root: Optional[Path] = typer.Option(None, "--data-root",
                                                  help="shared data folder for --data (or $HANDSDK_DATA)"),
        frames: int = typer.Option(100, "--frames", min=5, help="timed frames per mode (after warm-up)"),
        warmup: int = typer.Option(10, "--warmup", min=0, help="untimed frames per mode before the timed ones"),
        threads: Optional[int] = typer.Option(None, "--threads", min=1,
                                              help="interpreter threads (default: the device profile's, or 2)"),
        eval_limit: int = typer.Option(200, "--eval-limit", min=1, help="at most this many labelled images"),
        compare: Optional[str] = typer.Option(None, "--compare",
                                              help="formats to convert and profile side by side, e.g. "
                                                   "fp32,fp16,int8,qat-int8 (needs --detector/--pose/--gesture)"),
        detector: Optional[Path] = typer.Option(None, "--detector",
                                                 help="--compare: trained detector (run folder or .keras)"),
        pose: Optional[Path] = typer.Option(None, "--pose",
                                             help="--compare: trained pose model (run folder or .keras)"),
        gesture: List[Path] = typer.Option([], "--gesture",
                                            help="--compare: trained GestureNet(s); repeat for several sets"),
        json_out: Optional[Path] = typer.Option(None, "--json", help="write all rows as JSON"),
    ):
        """Per-stage and end-to-end latency (p50/p90), FPS, model sizes, peak
        memory and accuracy; one row per bundle or format, a failing one says why."""
        from handsdk.bundle import to_json
        from handsdk.tools.profiling import format_table, profile_in_subprocess

        bundles = [str(b) for b in bundle]
        labels = {}
        if compare:
            if not (detector and pose and gesture):
                fail("--compare converts trained models: give --detector, --pose and --gesture")
            from .common import need_train_extra

            need_train_extra("handsdk profile --compare")
            from handsdk.convert.formats import FORMATS

            from .convert import convert_many

            fmts = [f.strip() for f in compare.split(",") if f.strip()]
            bad = [f for f in fmts if f not in FORMATS]
            if bad:
                fail(f"unknown formats {bad}; choose from {', '.join(FORMATS)}")
            tmp = Path(tempfile.mkdtemp(prefix="handsdk_profile_"))
            typer.echo(f"converting to {', '.join(fmts)} in {tmp}", err=True)
            made = convert_many(detector, pose, list(gesture), fmts, tmp, "model", data_root=data_root,
                                progress=lambda m: typer.echo(m, err=True))
            for fmt, p in made.items():
                labels[p] = fmt
                bundles.append(p)
        if not bundles:
            from handsdk.bundle import default_bundle_path

            default = default_bundle_path()
            if default is None:
                fail("nothing to profile: this install ships no default bundle; give --bundle <file.handsdk> "
                     "(repeatable) or --compare with trained models")
            bundles = [str(default)]
        if json_out is not None and not json_out.parent.is_dir():
            fail(f"--json {json_out}: the folder {json_out.parent} does not exist")
        rows = []
        for i, b in enumerate(bundles, 1):
            if b.startswith("error:"):
                rows.append({"bundle": b, "error": b[6:].strip()})
                continue
            typer.echo(f"[{i}/{len(bundles)}] profiling {b} ({warmup} warm-up + {frames} frames per mode"
                       + (f", accuracy on {data}" if data else "") + ") ...", err=True)
            t0 = time.monotonic()
            r = profile_in_subprocess(b, device=device, frames=frames, warmup=warmup, threads=threads, data=data,
                                      data_root=str(data_root) if data_root else None, eval_limit=eval_limit,
                                      progress=lambda m, i=i: typer.echo(f"[{i}/{len(bundles)}]   {m}", err=True))
            if b in labels:
                r["format"] = labels[b]
            rows.append(r)
            typer.echo(f"[{i}/{len(bundles)}] " + ("FAILED" if "error" in r else "done")
                       + f" in {time.monotonic() - t0:.0f} s", err=True)
        typer.echo(format_table(rows))
        from handsdk.tools.profiling import TRACKING_CLIP

        typer.echo(f"det: IMAGE mode, the detector on every frame; trk: VIDEO mode, each frame with a hand held "
                   f"for {TRACKING_CLIP} frames (its first not counted), as handsdk bench does; tracked: the "
                   f"tracking frames on which the detector did not run")
        if json_out:
            json_out.write_text(to_json(rows, indent=2))
            typer.echo(f"wrote {json_out}", err=True)
        failed = [r for r in rows if "error" in r]
        if failed:
            typer.secho(f"FAILED: {len(failed)} of {len(rows)} row(s) could not be profiled "
                        f"({'; '.join(Path(r['bundle']).name + ': ' + r['error'] for r in failed)})",
                        fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
