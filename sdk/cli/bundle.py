"""`handsdk bundle inspect`: what a bundle holds."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .common import fail, load_bundle_or_fail

app = typer.Typer(help="Inspect model bundles (.handsdk files).", no_args_is_help=True)


@app.command("inspect")
def inspect(bundle: Optional[Path] = typer.Argument(None, help="bundle file (default: the shipped bundle)"),
            as_json: bool = typer.Option(False, "--json", help="print the summary as JSON")):
    """Models, sizes, tensors, labels, thresholds and provenance of a bundle."""
    from handsdk.bundle import default_bundle_path, to_json

    if bundle is None:
        bundle = default_bundle_path()
        if bundle is None:
            fail("no bundle given and this install ships no default bundle")
    b = load_bundle_or_fail(bundle)
    s = b.summary()
    if as_json:
        typer.echo(to_json(s, indent=2))  # strict JSON: NaN is written as null
        return
    typer.echo(f"bundle {s['source']}  (format v{s['format_version']}, {s['size_bytes'] / 1024:.1f} KiB of models)")
    for role, m in s["models"].items():
        typer.echo(f"  {role:<22} {m['file']:<28} {m['size_bytes'] / 1024:8.1f} KiB  {m['quantization']}")
        for k, (shape, dt) in m["inputs"].items():
            typer.echo(f"      in  {k:<12} {str(shape):<20} {dt}")
        for k, (shape, dt) in m["outputs"].items():
            typer.echo(f"      out {k:<12} {str(shape):<20} {dt}")
        if "labels" in m:
            typer.echo(f"      labels ({len(m['labels'])}): {', '.join(m['labels'])}")
    typer.echo(f"  thresholds: {to_json(s['thresholds'])}")
    prov = s["provenance"]
    if prov:
        typer.echo("  provenance:")
        for k, v in prov.items():
            typer.echo(f"    {k}: {to_json(v) if not isinstance(v, str) else v}")
    else:
        typer.echo("  provenance: (none recorded)")
