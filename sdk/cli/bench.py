"""`handsdk bench`: the SDK side by side with MediaPipe's hand landmarker."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..tools.bench_samples import DEFAULT_SETS
from .common import fail


def register(app: typer.Typer):
    @app.command("bench")
    def bench(
        bundle: Optional[Path] = typer.Option(None, "--bundle", help="bundle to benchmark (default: the shipped one)"),
        mediapipe_venv: Optional[Path] = typer.Option(
            None, "--mediapipe-venv",
            help="virtual environment with mediapipe (created with `pip install mediapipe` when missing; "
                 "default ~/.cache/handsdk/mediapipe-venv)"),
        no_install: bool = typer.Option(False, "--no-install", help="never create / install the MediaPipe venv"),
        no_mediapipe: bool = typer.Option(False, "--no-mediapipe", help="SDK columns only"),
        anchors: Optional[Path] = typer.Option(
            None, "--anchors", help="folder with MediaPipe's .task files (default: $HANDSDK_ANCHORS or "
                                    "../shared/anchors/mediapipe)"),
        model: str = typer.Option("full", "--model", help="MediaPipe model: full or lite"),
        data_root: Optional[Path] = typer.Option(None, "--data-root", help="real data (default $HANDSDK_DATA "
                                                                           "or ../shared/data)"),
        sets: str = typer.Option(
            ",".join(DEFAULT_SETS), "--sets",
            help="comma-separated sets (name, name:split, or a folder of <class>/<images>; name@0.4: its frames shrunk to 0.4 in the middle, small hands; name~4:3: its frames shown at aspect 4:3, for a set stored stretched)"),
        limit: int = typer.Option(100, "--limit", min=1, help="at most this many images per set (spread evenly)"),
        threads: Optional[int] = typer.Option(None, "--threads", min=1, help="SDK interpreter threads "
                                                                            "(default: usable cores, max 4)"),
        sizes: str = typer.Option("160x120,320x240,640x480", "--sizes", help="latency frame sizes WxH"),
        latency_images: int = typer.Option(10, "--latency-images", min=1, help="real images used for latency"),
        warmup: int = typer.Option(5, "--warmup", min=0, help="untimed runs per system and size before the timed ones"),
        rounds: int = typer.Option(5, "--rounds", min=1, help="IMAGE-mode passes over the latency images"),
        clip_len: int = typer.Option(6, "--clip-len", min=2, help="VIDEO-mode frames per latency image"),
        repeats: int = typer.Option(2, "--repeats", min=1, help="latency blocks per system and size (alternating "
                                                                "order, pooled)"),
        json_out: Optional[Path] = typer.Option(None, "--json", help="write the full report as JSON"),
        markdown: Optional[Path] = typer.Option(None, "--markdown", help="write the tables as markdown"),
        worst_png: Optional[Path] = typer.Option(None, "--worst-png", help="PNG grid of the camera-scene frames "
                                                 "where the SDK did worst, SDK beside MediaPipe"),
    ):
        """Run the SDK and MediaPipe on the same images and frames and print a
        side-by-side table: hands found, keypoint accuracy (human keypoints and
        agreement with MediaPipe's pseudo-labels), gesture/letter accuracy
        (end to end vs GestureNet on MediaPipe's keypoints) and latency per
        frame size and mode, with pass/fail target columns."""
        from handsdk.tools.bench import run_bench
        from handsdk.tools.bench_report import format_markdown, format_text, to_json
        from handsdk.train.mediapipe.env import MODEL_FILES

        if model not in MODEL_FILES:
            fail(f"--model must be one of {', '.join(MODEL_FILES)}")
        try:
            size_list = [tuple(int(v) for v in s.lower().split("x")) for s in sizes.split(",") if s.strip()]
            if any(len(s) != 2 or min(s) < 16 for s in size_list):
                raise ValueError
        except ValueError:
            fail(f"--sizes must look like 160x120,320x240 (got {sizes!r})")
        if bundle is not None and not bundle.is_file():
            fail(f"bundle {str(bundle)!r} does not exist")
        if bundle is None:
            from handsdk.bundle import default_bundle_path

            if default_bundle_path() is None:
                fail("this install ships no default bundle: pass --bundle <file.handsdk>")
        set_list = [s.strip() for s in sets.split(",") if s.strip()]
        log = lambda m: typer.echo(m, err=True)  # noqa: E731
        try:
            report = run_bench(bundle, sets=set_list, data_root=data_root, limit=limit,
                               mediapipe_venv=mediapipe_venv, install=not no_install,
                               use_mediapipe=not no_mediapipe, anchors=anchors, model=model, threads=threads,
                               sizes=size_list, latency_images_n=latency_images, warmup=warmup,
                               image_rounds=rounds, clip_len=clip_len, repeats=repeats,
                               worst_png=worst_png, log=log)
        except FileNotFoundError as e:
            fail(str(e))
        typer.echo(format_text(report))
        if json_out:
            json_out.write_text(to_json(report))
            typer.echo(f"wrote {json_out}", err=True)
        if markdown:
            markdown.write_text(format_markdown(report))
            typer.echo(f"wrote {markdown}", err=True)
