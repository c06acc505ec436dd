"""MediaPipe for ``handsdk bench`` and the training data (the teacher, the
face negatives): where MediaPipe's ``.task`` models are, its own virtual
environment (created and filled with ``pip install mediapipe`` on demand: it
pulls opencv-contrib-python and pins absl-py, which break the project's
environment), and the worker processes (``hand_worker.py`` and
``face_worker.py``, standalone scripts run by that environment's python with
a JSON job; frames travel as an ``.npz``)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("hand_worker.py")  # run as a script in the MediaPipe venv
FACE_WORKER = Path(__file__).with_name("face_worker.py")  # OpenCV's Haar cascades (opencv-contrib there)
DEFAULT_VENV = Path("~/.cache/handsdk/mediapipe-venv")
MODEL_FILES = {"full": "hand_landmarker_full.task", "lite": "hand_landmarker_alllite.task"}


class MediaPipeUnavailable(RuntimeError):
    """MediaPipe could not be installed or run; the message says why."""


# ------------------------------------------------------------------ paths


def anchors_dir(anchors=None) -> Path:
    """The folder holding MediaPipe's ``.task`` files: ``anchors`` (the
    mediapipe folder or its parent), else ``$HANDSDK_ANCHORS``, else
    ``../shared/anchors/mediapipe`` relative to the current directory or the
    repository."""
    cands = []
    if anchors is not None:
        cands.append(Path(anchors).expanduser())
    elif os.environ.get("HANDSDK_ANCHORS"):
        cands.append(Path(os.environ["HANDSDK_ANCHORS"]).expanduser())
    else:
        cands += [Path.cwd() / ".." / "shared" / "anchors", REPO / ".." / "shared" / "anchors"]
    for c in cands:
        for d in (c, c / "mediapipe"):
            if d.is_dir() and any((d / f).is_file() for f in MODEL_FILES.values()):
                return d.resolve()
    raise FileNotFoundError("MediaPipe models not found (tried " + ", ".join(str(c) for c in cands) +
                            "); pass --anchors or set HANDSDK_ANCHORS to the folder with hand_landmarker_full.task")


def model_path(anchors=None, model: str = "full") -> Path:
    if model not in MODEL_FILES:
        raise ValueError(f"model must be one of {sorted(MODEL_FILES)}, got {model!r}")
    p = anchors_dir(anchors) / MODEL_FILES[model]
    if not p.is_file():
        raise FileNotFoundError(f"{p} does not exist")
    return p


# ------------------------------------------------------------------ MediaPipe venv


def venv_python(venv) -> Path:
    v = Path(venv).expanduser()
    return v / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def mediapipe_version(venv) -> str | None:
    py = venv_python(venv)
    if not py.is_file():
        return None
    r = subprocess.run([str(py), "-c", "import mediapipe, numpy; print(mediapipe.__version__)"],
                       capture_output=True, text=True, timeout=300)
    return r.stdout.strip() if r.returncode == 0 else None


def ensure_mediapipe(venv=None, *, install: bool = True, log: Callable[[str], None] = print,
                     timeout: int = 1800) -> Path:
    """The MediaPipe venv's python, creating the venv and installing mediapipe
    when needed (``install``). Raises :class:`MediaPipeUnavailable` saying why."""
    venv = Path(venv or DEFAULT_VENV).expanduser()
    if mediapipe_version(venv):
        return venv_python(venv)
    if not install:
        raise MediaPipeUnavailable(
            f"no working MediaPipe environment at {venv} (and installing was not allowed); create one with: "
            f"python3 -m venv {venv} && {venv_python(venv)} -m pip install mediapipe")
    log(f"creating the MediaPipe environment in {venv} (pip install mediapipe; takes a few minutes) ...")
    logfile = venv.parent / (venv.name + "-install.log")
    try:
        venv.parent.mkdir(parents=True, exist_ok=True)
        if not venv_python(venv).is_file():
            r = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True,
                               timeout=300)
            if r.returncode != 0:
                raise MediaPipeUnavailable(f"could not create a virtual environment at {venv}: "
                                           f"{(r.stderr or r.stdout).strip()[-800:]}")
        from handsdk.train.progress import PIP_LINES, run_logged

        rc = run_logged([str(venv_python(venv)), "-m", "pip", "install", "mediapipe"], logfile, show=PIP_LINES,
                        on_line=lambda ln: log(f"  pip: {ln}"), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MediaPipeUnavailable(f"pip install mediapipe did not finish in {timeout} s (log: {logfile})") from None
    except OSError as e:
        raise MediaPipeUnavailable(f"could not set up {venv}: {e}") from e
    if rc != 0:
        tail = logfile.read_text(errors="replace").strip().splitlines()[-8:]
        raise MediaPipeUnavailable("pip install mediapipe failed (log: " + str(logfile) + "):\n  " +
                                   "\n  ".join(tail))
    if not mediapipe_version(venv):
        raise MediaPipeUnavailable(f"mediapipe was installed in {venv} but does not import (log: {logfile})")
    return venv_python(venv)


#: a worker's stderr line that reports progress (forwarded to ``log``)
PROGRESS_PREFIX = "progress: "


def run_worker(python, job: dict, workdir, *, worker=None, timeout: int = 1800,
               what: str = "the MediaPipe worker", log: Callable[[str], None] | None = None) -> dict:
    """Run the MediaPipe worker (or another script ``worker`` of the MediaPipe
    environment, named ``what`` in errors) on ``job`` (its "out" is set here).
    ``log``: receives the worker's progress lines (stderr lines starting
    with :data:`PROGRESS_PREFIX`) as they come."""
    import threading

    workdir = Path(workdir)
    out = workdir / f"mp_result_{time.monotonic_ns()}.json"
    job = dict(job, out=str(out))
    jp = workdir / f"mp_job_{time.monotonic_ns()}.json"
    jp.write_text(json.dumps(job))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.setdefault("GLOG_minloglevel", "2")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    proc = subprocess.Popen([str(python), str(worker or WORKER), str(jp)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    err: list = []
    std: list = []

    def _read_stderr():
        for line in proc.stderr:
            if line.startswith(PROGRESS_PREFIX):
                if log is not None:
                    log(f"  {what}: {line[len(PROGRESS_PREFIX):].rstrip()}")
            else:
                err.append(line)

    readers = [threading.Thread(target=_read_stderr, daemon=True),
               threading.Thread(target=lambda: std.extend(proc.stdout), daemon=True)]
    for r in readers:
        r.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise MediaPipeUnavailable(f"{what} ran past {timeout} s") from None
    for r in readers:
        r.join(timeout=5)
    stdout = "".join(std)
    res = None
    if out.is_file():
        try:
            res = json.loads(out.read_text())
        except json.JSONDecodeError:
            res = None
    if res is None or "error" in res or proc.returncode != 0:
        why = (res or {}).get("error") or ("".join(err) or stdout or "").strip()[-1500:] or \
            f"exit code {proc.returncode}"
        raise MediaPipeUnavailable(f"{what} failed ({python}): {why}")
    return res


def run_face_worker(python, job: dict, workdir, *, timeout: int = 3600,
                    log: Callable[[str], None] | None = None) -> dict:
    """Faces found by OpenCV's Haar cascades (``face_worker.py`` in the MediaPipe
    environment, whose opencv-contrib has the cascade files): ``job`` holds
    ``images`` (paths) or ``frames`` (an .npz) and ``keys``; returns {path or
    key: [[x0, y0, x1, y1], ...]}. Raises :class:`MediaPipeUnavailable` saying why."""
    return run_worker(python, job, workdir, worker=FACE_WORKER, timeout=timeout, what="the face worker",
                      log=log)["faces"]
