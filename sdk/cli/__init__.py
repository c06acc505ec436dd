"""The ``handsdk`` command line. One module per command group; heavy imports
live inside command bodies so that ``handsdk run`` works on the base install."""
from __future__ import annotations

import importlib
import re
import sys

import typer

app = typer.Typer(
    name="handsdk",
    help="Hand tracking, keypoints and gestures on small devices.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool):
    if value:
        from handsdk import __version__

        typer.echo(f"handsdk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version_callback, is_eager=True,
                                 help="print the version and exit"),
    verbose: bool = typer.Option(False, "--verbose", help="keep TensorFlow / absl / OpenCV start-up and "
                                                          "log messages (hidden by default; any position)"),
):
    """Hand tracking, keypoints and gestures on small devices."""

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


def _reflow(text: str) -> str:
    """Help text with the line breaks of its source joined: each paragraph
    (blank-line separated) becomes one line that the terminal wraps (typer
    keeps a docstring's breaks, so paragraphs came out cut at 80 columns).
    A paragraph marked ``\\b``, or with an indented or bulleted line, keeps
    its lines."""
    out = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        keep = para.lstrip().startswith("\b") or any(
            ln[:1].isspace() or ln.lstrip().startswith(("- ", "* ", "• ")) for ln in lines[1:])
        out.append(para if keep else " ".join(ln.strip() for ln in lines if ln.strip()))
    return "\n\n".join(out)


def _list_metavar(annotation) -> str | None:
    """``<path>`` / ``<str>`` for a repeatable option (``List[Path]``, whose
    metavar typer would print as ``<list[Path]>``)."""
    import typing

    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) is typing.Union and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is not list:
        return None
    (item,) = typing.get_args(annotation) or (str,)
    return f"<{getattr(item, '__name__', 'str').lower()}>"


def _tidy_help(typer_app: typer.Typer) -> None:
    """Every command's help as paragraphs (:func:`_reflow`), and repeatable
    options with the metavar of one value (:func:`_list_metavar`); applied to
    the registered commands and groups before typer builds the CLI."""
    import inspect
    import typing

    from typer.models import ParameterInfo

    for info in typer_app.registered_commands:
        cb = info.callback
        if cb is None:
            continue
        doc = info.help if isinstance(info.help, str) else inspect.getdoc(cb)
        if doc:
            info.help = _reflow(doc)
        try:
            hints = typing.get_type_hints(cb)
        except Exception:
            hints = {}
        for name, par in inspect.signature(cb).parameters.items():
            d = par.default
            if isinstance(d, ParameterInfo) and getattr(d, "metavar", None) is None:
                mv = _list_metavar(hints.get(name))
                if mv is not None:
                    d.metavar = mv
    for g in typer_app.registered_groups:
        if isinstance(g.help, str):
            g.help = _reflow(g.help)
        sub = g.typer_instance
        if sub is not None:
            if isinstance(sub.info.help, str):
                sub.info.help = _reflow(sub.info.help)
            _tidy_help(sub)


@app.command("version")
def version():
    """Print the handsdk version and the available interpreters."""
    from handsdk import __version__
    from handsdk.backends import available_backends

    typer.echo(f"handsdk {__version__}; interpreters: {', '.join(available_backends()) or 'none'}")


#: native start-up and log lines of TensorFlow and absl (``I0000 00:00:1712345678.123456   1234 port.cc:153]``,
#: ``W1205 12:34:56.789012 ...``), LiteRT, the TFLite converter (``fully_quantize: 0, inference_type: 6,
#: ...``, once per converted model), onnxruntime (``2025-01-01 12:00:00.123 [W:onnxruntime:...]``, often
#: in ANSI colour) and FFmpeg (OpenCV)
_NOISE = re.compile(rb"^(WARNING: All log messages before absl::InitializeLog"
                    rb"|[IWEF]\d{4} \d\d:\d\d:[\d.]+ +\d+ [\w.+-]+:\d+\] "
                    rb"|INFO: Created TensorFlow Lite|INFO: Initialized TensorFlow Lite|\[[\w:-]+ @ 0x[0-9a-f]+\] "
                    rb"|\[ WARN:\d+@|libpng warning: |fully_quantize: \d"
                    rb"|(\x1b\[[\d;]*m)*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[[VIWE]:onnxruntime:)")
#: what a partial line (no newline yet) starting like noise may become: held until its line ends
_NOISE_START = re.compile(rb"^(WARNING|[IWEF]\d|INFO|\[|libpng|fully_quantize|\x1b\[|\d{4}-)")


def quiet_native_logs():
    """Filter the native libraries' log lines out of file descriptor 2 (they
    bypass Python's sys.stderr); everything else is passed on. Child
    processes inherit the filter. Returns a function that restores fd 2."""
    import os
    import threading

    real = os.dup(2)
    r, w = os.pipe()
    sys.stderr.flush()
    os.dup2(w, 2)
    os.close(w)

    def forward(seg: bytes):
        if not _NOISE.match(seg):
            os.write(real, seg)

    def pump():
        buf = b""
        while True:
            try:
                chunk = os.read(r, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            parts = re.split(rb"(?<=[\n\r])", buf)
            buf = parts.pop()  # an unfinished line
            for seg in parts:
                forward(seg)
            if buf and not _NOISE_START.match(buf):
                os.write(real, buf)  # a prompt or progress text without newline: no need to wait
                buf = b""
        if buf:
            forward(buf)
        os.close(r)

    t = threading.Thread(target=pump, name="handsdk-stderr", daemon=True)
    t.start()

    def restore():
        try:
            sys.stderr.flush()
        except Exception:
            pass
        os.dup2(real, 2)  # closes the pipe's last write end here: the pump sees EOF
        t.join(timeout=2)
    return restore


def quiet_python_logs():
    """Python-side start-up noise: TensorFlow's logger and its deprecation warnings."""
    import logging
    import os
    import warnings

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    logging.getLogger("absl").setLevel(logging.ERROR)
    for mod in ("tensorflow", "tf_keras", "keras", "tf2onnx", "onnx", "google.protobuf", "absl"):
        warnings.filterwarnings("ignore", module=mod)
    # the shared data's one known malformed CSV row (zoo_gabesf), skipped on every convert and train
    warnings.filterwarnings("ignore", message=r".*: malformed landmark row ")


_tidy_help(app)


def main():  # the console script
    argv = sys.argv[1:]
    verbose = "--verbose" in argv
    if verbose:  # accepted in any position
        sys.argv = [sys.argv[0]] + [a for a in argv if a != "--verbose"]
        import os

        os.environ.setdefault("HANDSDK_NATIVE_LOGS", "1")  # (handsdk.backends.tflite keeps the runtime's lines)
    restore = None
    if not verbose:
        quiet_python_logs()
        try:
            restore = quiet_native_logs()
        except OSError:  # no fd 2 (some service managers): nothing to filter
            restore = None
    try:
        app()
    finally:
        if restore is not None:
            restore()
