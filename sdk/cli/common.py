"""Small helpers shared by the CLI modules (stdlib + typer only)."""
from __future__ import annotations

import sys

import typer


def fail(msg: str, code: int = 2):
    """Print a clear error and exit, no traceback."""
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def need_train_extra(what: str):
    """Import TensorFlow the project's way, or exit with a clear message."""
    try:
        from handsdk.train.tf import tf  # noqa: F401
    except ImportError:
        fail(f"`{what}` needs TensorFlow, which comes with the train extra: pip install 'handsdk[train]'")


def load_bundle_or_fail(path):
    from handsdk.bundle import BundleError, load_bundle

    try:
        return load_bundle(path)
    except (BundleError, FileNotFoundError) as e:
        fail(str(e))


def percentile_table(rows: dict, keys=("p50", "p90", "mean")) -> str:
    lines = [f"{'stage':<10}" + "".join(f"{k:>10}" for k in keys)]
    for name, vals in rows.items():
        lines.append(f"{name:<10}" + "".join(f"{vals[k]:>10.2f}" for k in keys))
    return "\n".join(lines)


def stats_ms(values) -> dict:
    from handsdk.tools.latency import latency_stats

    return latency_stats(values, empty=float("nan"))


def is_tty() -> bool:
    return sys.stdout.isatty()
