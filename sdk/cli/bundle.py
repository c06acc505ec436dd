"""`handsdk bundle inspect`: what a bundle holds."""
from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Optional

import typer

from .common import fail, load_bundle_or_fail

app = typer.Typer(help="Inspect model bundles (.handsdk files).", no_args_is_help=True)

#: the readable summary keeps its lines to this many characters (--json has everything)
WIDTH = 100


def _num(v) -> str:
    if isinstance(v, bool) or v is None:
        return "-" if v is None else str(v).lower()
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else f"{v:.3g}" if abs(v) < 1e4 else f"{v:.0f}"
    return str(v)


def _rate(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else _num(v)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 4, 1)].rstrip(", ") + " ..."


def _brief(v, width: int) -> str:
    """One value in at most ``width`` characters: scalars as they are, lists
    as their count and first items, objects as their scalar keys (k=v) and
    the size of what nests deeper."""
    if isinstance(v, str):
        return _clip(v, width)
    if isinstance(v, list):
        items = ", ".join(_num(x) if not isinstance(x, (dict, list)) else "{...}" for x in v)
        return _clip(f"{len(v)}: {items}" if len(v) > 1 else items or "(none)", width)
    if isinstance(v, dict):
        parts = []
        for k, x in v.items():
            if isinstance(x, dict):
                parts.append(f"{k}={{{len(x)} keys}}")
            elif isinstance(x, list):
                parts.append(f"{k}=[{len(x)}]")
            else:
                parts.append(f"{k}={_clip(_num(x), 40)}")
        return _clip(" ".join(parts) or "(empty)", width)
    return _clip(_num(v), width)


def _get(d, *path):
    for k in path:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def _evaluation_lines(ev: dict) -> list[str] | None:
    """build-default's evaluation as a table (one row per set); None when it
    has another shape."""
    if not isinstance(ev, dict) or not ev or not all(isinstance(v, dict) and "images" in v for v in ev.values()):
        return None
    w = max(12, min(32, max(len(k) for k in ev)))
    out = [f"    {'set':<{w}} {'images':>6} {'found':>6} {'false/img':>9} {'PCK@0.2':>8}  gesture"]
    for name, d in ev.items():
        found = _get(d, "scene", "found_rate")
        found = d.get("detection_rate") if found is None else found
        g = d.get("gesture") if isinstance(d.get("gesture"), dict) else {}
        gest = f"{_rate(g.get('accuracy'))} ({g.get('set')})" if g else ""
        out.append(f"    {_clip(name, w):<{w}} {_num(d.get('images')):>6} {_rate(found):>6} "
                   f"{_rate(_get(d, 'scene', 'false_per_image')):>9} "
                   f"{_rate(_get(d, 'keypoints_end_to_end', 'all', 'pck@0.2')):>8}  {gest}".rstrip())
    return out


def _provenance_lines(prov: dict) -> list[str]:
    out = []
    for k, v in prov.items():
        if k == "evaluation":
            table = _evaluation_lines(v)
            if table is not None:
                out.append(f"  {k} (end to end, build-default's sets; found: hands found, or images with a "
                           f"hand found):")
                out += table
                continue
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            out.append(f"  {k}:")
            kw = min(24, max(len(str(r)) for r in v))
            for r, x in v.items():
                out.append(f"    {str(r) + ':':<{kw + 1}} {_brief(x, WIDTH - kw - 6)}")
            continue
        out.append(f"  {k}: {_brief(v, WIDTH - len(k) - 4)}")
    return out


def summary_lines(s: dict) -> list[str]:
    """The readable summary of :meth:`handsdk.bundle.Bundle.summary`."""
    q = s["quantization"]
    lines = [f"bundle {s['source']}",
             f"  name {s.get('name') or '-'}, format v{s['format_version']}, "
             f"{s['size_bytes'] / 1024:.1f} KiB of models, quantization {q['bundle']}"
             + ("" if q["bundle"] == "mixed" else " (every model)")]
    said = s["provenance"].get("format")
    if isinstance(said, str) and said != q["bundle"]:
        lines.append(f"  note: its provenance says format {said!r}; the models themselves are {q['bundle']} "
                     f"(per model below)")
    lines.append("  models:")
    for role, m in s["models"].items():
        lines.append(f"    {role:<22} {m['file']:<28} {m['size_bytes'] / 1024:8.1f} KiB  {m['quantization']}")
        for k, (shape, dt) in m["inputs"].items():
            lines.append(f"        in  {k:<12} {str(shape):<20} {dt}")
        for k, (shape, dt) in m["outputs"].items():
            lines.append(f"        out {k:<12} {str(shape):<20} {dt}")
        if "labels" in m:
            lines += textwrap.wrap(", ".join(m["labels"]), WIDTH, initial_indent=f"        labels ({len(m['labels'])}): ",
                                   subsequent_indent=" " * 12, break_on_hyphens=False)
    th = ", ".join(f"{k} {_num(v)}" for k, v in s["thresholds"].items())
    lines += textwrap.wrap(th or "(none)", WIDTH, initial_indent="  thresholds: ", subsequent_indent=" " * 4)
    if s["provenance"]:
        lines.append("provenance (handsdk bundle inspect --json: all of it):")
        lines += _provenance_lines(s["provenance"])
    else:
        lines.append("provenance: (none recorded)")
    return lines


@app.command("inspect")
def inspect(bundle: Optional[Path] = typer.Argument(None, help="bundle file (default: the shipped bundle)"),
            as_json: bool = typer.Option(False, "--json", help="print everything (the whole provenance too) as "
                                                               "JSON")):
    """Models, sizes, tensors, labels, thresholds and a summary of the
    provenance of a bundle (--json: all of it)."""
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
    typer.echo("\n".join(summary_lines(s)))
