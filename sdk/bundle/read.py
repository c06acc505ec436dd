"""Reading a bundle: the zip archive (limits, safe names, the manifest's
text), the manifest parsed into a :class:`~handsdk.bundle.model.Bundle`
(schema, contracts, checksums), every model run once (:func:`check_models`),
and the bundle that ships with the package."""
from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from pathlib import Path
from typing import Mapping

import numpy as np

from ..keypoints import KEYPOINT_NAMES
from .model import (FORMAT, FORMAT_VERSION, MANIFEST, MAX_ENTRIES, MAX_FILE_BYTES, MAX_MANIFEST_BYTES,
                    MAX_TOTAL_BYTES, ROLES, SUFFIX, Bundle, BundleError, ModelEntry, sha256_hex)
from .schema import MAX_DEPTH, MAX_TEXT_DEPTH, check_contract, check_thresholds, json_depth, validate_manifest


def _read_zip(data: bytes, source: str) -> tuple[dict, dict]:
    if len(data) < 22:
        raise BundleError(f"{source}: not a handsdk bundle (only {len(data)} bytes)")
    if data[:4] != b"PK\x03\x04":
        raise BundleError(f"{source}: not a handsdk bundle (not a zip archive; a bundle is a "
                          f"'{SUFFIX}' file written by `handsdk convert` or handsdk.bundle.build_bundle)")
    try:
        return _read_zip_entries(data, source)
    except BundleError:
        raise
    except RecursionError as e:
        raise BundleError(f"{source}: {MANIFEST} nests too deeply ({e})") from None
    except Exception as e:  # zipfile raises ValueError, struct.error, EOFError, ... on a damaged archive
        raise BundleError(f"{source}: truncated or corrupt bundle ({type(e).__name__}: {e}); "
                          f"copy or download it again") from e


def _read_zip_entries(data: bytes, source: str) -> tuple[dict, dict]:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as e:
        raise BundleError(f"{source}: truncated or corrupt bundle ({e})") from e
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"{source}: {len(infos)} entries in the archive (at most {MAX_ENTRIES})")
    total = 0
    for info in infos:
        n = info.filename
        if n.startswith(("/", "\\")) or ".." in n.replace("\\", "/").split("/") or "\\" in n or ":" in n \
                or "/" in n:
            raise BundleError(f"{source}: unsafe path {n!r} in the archive (path traversal or folders)")
        if info.file_size > MAX_FILE_BYTES:
            raise BundleError(f"{source}: entry {n!r} is absurdly large ({info.file_size} bytes)")
        total += info.file_size
    if total > MAX_TOTAL_BYTES:
        raise BundleError(f"{source}: the archive unpacks to {total} bytes (at most {MAX_TOTAL_BYTES})")
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        raise BundleError(f"{source}: duplicate entries in the archive")
    if MANIFEST not in names:
        raise BundleError(f"{source}: no {MANIFEST} in the archive (not a handsdk bundle)")
    files = {}
    for info in infos:
        try:
            with zf.open(info) as f:
                b = f.read(info.file_size + 1)
        except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as e:
            raise BundleError(f"{source}: truncated or corrupt entry {info.filename!r} ({e})") from e
        if len(b) != info.file_size:
            raise BundleError(f"{source}: entry {info.filename!r} does not match its declared size")
        files[info.filename] = b
    raw = files.pop(MANIFEST)
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"{source}: {MANIFEST} is absurdly large")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BundleError(f"{source}: {MANIFEST} is not valid UTF-8 text ({e})") from e
    depth = json_depth(text)  # (before parsing: deep nesting would exhaust the parser's recursion)
    if depth > MAX_TEXT_DEPTH:
        raise BundleError(f"{source}: {MANIFEST} nests {depth} levels deep (at most {MAX_DEPTH})")
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as e:
        raise BundleError(f"{source}: {MANIFEST} is not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: {MANIFEST} must be a JSON object")
    return manifest, files


def parse_manifest(manifest: dict, files: Mapping[str, bytes], source: str = "<bytes>") -> Bundle:
    if not isinstance(manifest, dict):
        raise BundleError(f"{source}: {MANIFEST} must be a JSON object")
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{source}: manifest 'format' is {manifest.get('format')!r}, expected {FORMAT!r}")
    ver = manifest.get("format_version")
    if not isinstance(ver, int) or isinstance(ver, bool) or ver < 1:
        raise BundleError(f"{source}: manifest has no valid 'format_version' (a positive integer)")
    if ver > FORMAT_VERSION:
        raise BundleError(f"{source}: bundle format version {ver} is newer than this handsdk understands "
                          f"({FORMAT_VERSION}); upgrade handsdk")
    try:
        manifest = validate_manifest(manifest)
    except BundleError as e:
        raise BundleError(f"{source}: {e}") from None
    try:
        check_thresholds(manifest)
    except BundleError as e:
        raise BundleError(f"{source}: {e}") from None
    kp = manifest.get("keypoints") or {}
    if list(kp.get("order") or KEYPOINT_NAMES) != list(KEYPOINT_NAMES):
        raise BundleError(f"{source}: the bundle's keypoint order is not MediaPipe's 21-point order")
    raw_models = manifest["models"]
    models = {}
    for role in ROLES:
        if role not in raw_models:
            raise BundleError(f"{source}: missing model {role!r} in the manifest")
    for role, d in raw_models.items():
        e = ModelEntry.from_json(role, d)
        try:
            check_contract(role, e)
        except BundleError as err:
            raise BundleError(f"{source}: {err}") from None
        if e.file not in files:
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is missing from the archive")
        b = files[e.file]
        if sha256_hex(b) != e.sha256.lower():
            raise BundleError(f"{source}: model file {e.file!r} ({role}) is corrupt: its sha256 does not "
                              f"match the manifest")
        models[role] = e
    if not any(r.startswith("gesture:") for r in models):
        raise BundleError(f"{source}: the bundle has no gesture model")
    used = {e.file for e in models.values()}
    return Bundle(manifest=manifest, models=models, files={k: v for k, v in files.items() if k in used},
                  source=source)


def check_models(bundle: Bundle, backend: str = "auto") -> None:
    """Build every model's interpreter once, run it on one zero input, and
    check that its tensors match the manifest (names, shapes, dtypes). A model
    the interpreter cannot load or run is a BundleError, never a traceback later."""
    from ..backends import BackendError, open_model

    for role, e in bundle.models.items():
        try:
            m = open_model(bundle.files[e.file], backend=backend, num_threads=1, name=f"{role} ({e.file})")
        except BackendError as err:
            raise BundleError(f"{bundle.source}: {err}") from err
        except Exception as err:  # an interpreter that crashes on this file instead of saying so
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) could not be loaded "
                              f"({type(err).__name__}: {err}); the file is corrupt") from err
        for kind, want, got in (("input", e.inputs, m.inputs), ("output", e.outputs, m.outputs)):
            if set(want) != set(got):
                raise BundleError(f"{bundle.source}: model {role!r}: the manifest lists {kind}s {sorted(want)} "
                                  f"but the model has {sorted(got)}")
            for k, spec in want.items():
                if tuple(spec.shape) != tuple(got[k].shape) or np.dtype(spec.dtype) != got[k].dtype:
                    raise BundleError(
                        f"{bundle.source}: model {role!r} {kind} {k!r} is {got[k].shape} {got[k].dtype} "
                        f"but the manifest says {tuple(spec.shape)} {spec.dtype}")
        if getattr(m, "backend", "") == "tensorrt":
            continue  # an engine runs only on its Jetson; inspecting the bundle elsewhere must still work
        try:
            out = m(**{k: np.zeros(spec.shape, np.float32) for k, spec in e.inputs.items()})
            bad = [k for k, v in out.items() if not np.all(np.isfinite(v))]
        except Exception as err:
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) fails to run "
                              f"({type(err).__name__}: {err}); the file is corrupt or was built for "
                              f"another interpreter") from err
        if bad:
            raise BundleError(f"{bundle.source}: model {role!r} ({e.file}) outputs NaN or infinity "
                              f"({', '.join(bad)}) on a blank input; the file is corrupt")


def load_bundle(source, *, check: bool = True, backend: str = "auto") -> Bundle:
    """Load and validate a bundle from a path or bytes. With ``check`` every
    model is also loaded by the interpreter, run once, and its tensors
    compared with the manifest. Any problem with the file is a
    :class:`BundleError` naming it (a missing file: FileNotFoundError)."""
    if isinstance(source, Bundle):
        return source
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, name = bytes(source), "<bytes>"
    elif isinstance(source, (str, os.PathLike)):
        p = Path(os.fspath(source))
        name = str(p)
        if not p.exists():
            raise FileNotFoundError(f"bundle not found: {p}")
        if p.is_dir():
            raise BundleError(f"{p} is a folder, not a bundle file")
        try:
            size = p.stat().st_size
            if size > MAX_TOTAL_BYTES + MAX_MANIFEST_BYTES:
                raise BundleError(f"{p}: absurdly large for a bundle ({size} bytes)")
            data = p.read_bytes()
        except OSError as e:
            raise BundleError(f"{p}: cannot read the bundle ({e.strerror or e})") from e
    else:
        raise TypeError(f"a bundle is a path (str or pathlib.Path), bytes or a loaded Bundle; "
                        f"got {type(source).__name__}")
    manifest, files = _read_zip(data, name)
    bundle = parse_manifest(manifest, files, name)
    if check:
        check_models(bundle, backend=backend)
    return bundle


def default_bundle_path() -> Path | None:
    """The bundle that ships with the package, if this install has one."""
    p = Path(__file__).parent.parent / "models" / f"default{SUFFIX}"
    return p if p.exists() else None
