"""The ``handsdk`` command line. One module per command group; heavy imports
live inside command bodies so that ``handsdk run`` works on the base install."""
from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="handsdk",
    help="Hand tracking, keypoints and gestures on small devices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# (module, name in the CLI); a group whose module is missing is skipped, so a
# partial install still has a working CLI.
_GROUPS = (
    ("bundle", "bundle"),
    ("devices", "devices"),
    ("data", "data"),
    ("train", "train"),
    ("convert", None),
    ("profile", None),
    ("bench", None),
    ("release", None),
    ("capture", None),
)

from . import run as _run  # noqa: E402

_run.register(app)

for _mod, _name in _GROUPS:
    try:
        m = importlib.import_module(f"{__name__}.{_mod}")
    except ModuleNotFoundError as e:  # only our own missing module is tolerated
        if e.name != f"{__name__}.{_mod}":
            raise
        continue
    if hasattr(m, "register"):
        m.register(app)
    else:
        app.add_typer(m.app, name=_name or _mod)


@app.command("version")
def version():
    """Print the handsdk version and the available interpreters."""
    from handsdk import __version__
    from handsdk.backend import available_backends

    typer.echo(f"handsdk {__version__}; interpreters: {', '.join(available_backends()) or 'none'}")


def main():  # the console script
    app()
