"""`handsdk devices list|show`: the target device profiles."""
from __future__ import annotations

import json

import typer

from .common import fail

app = typer.Typer(help="Target device profiles (format, backend, threads, resolutions).", no_args_is_help=True)


@app.command("list")
def list_():
    """One line per device profile."""
    from handsdk.devices import list_devices, load_device

    for name in list_devices():
        d = load_device(name)
        typer.echo(f"{name:<18} {d['format']:<9} {d['backend']:<15} {d['threads']} threads  "
                   f"camera {d['camera'][0]}x{d['camera'][1]}  budget {d['latency_budget_ms']} ms  {d['name']}")


@app.command("show")
def show(name: str = typer.Argument(..., help="device id, see `handsdk devices list`")):
    """The whole profile of one device, as JSON."""
    from handsdk.devices import load_device

    try:
        typer.echo(json.dumps(load_device(name), indent=2))
    except KeyError as e:
        fail(str(e.args[0]))
