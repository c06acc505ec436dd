"""TFLite models (LiteRT, tflite_runtime or tf.lite) behind one small interface.

Order of preference: ``ai_edge_litert`` (LiteRT, the maintained runtime),
``tflite_runtime`` (abandoned, numpy<2 only), ``tensorflow.lite`` (heavy, only
if TensorFlow happens to be installed). Inputs and outputs are addressed by
the model's signature names; quantised tensors are (de)quantised here, at the
boundary, with the scale and zero point read from the interpreter.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import threading
import warnings

import numpy as np

from .common import BackendError, TensorInfo

BACKENDS = ("ai_edge_litert", "tflite_runtime", "tensorflow")
_MODULES = {
    "ai_edge_litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow.lite",
}
#: what the interpreters' C++ runtimes print on file descriptor 2 when a model is
#: loaded ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU."): LiteRT has no
#: option or environment variable for it (TF_CPP_MIN_LOG_LEVEL does not reach it)
_LOAD_NOISE = re.compile(rb"^(INFO: Created TensorFlow Lite|INFO: Initialized TensorFlow Lite)")
#: set (to anything but 0) to keep those lines; `handsdk --verbose` sets it
NATIVE_LOGS_ENV = "HANDSDK_NATIVE_LOGS"
_STDERR_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet_model_loading():
    """While a model is loaded, file descriptor 2 goes to a temporary file;
    afterwards everything written there is passed on to it except the
    runtime's start-up lines (:data:`_LOAD_NOISE`), errors included. No-op
    when ``$HANDSDK_NATIVE_LOGS`` is set or there is no fd 2."""
    if os.environ.get(NATIVE_LOGS_ENV, "") not in ("", "0"):
        yield
        return
    with _STDERR_LOCK:
        saved = tmp = None
        try:
            try:
                sys.stderr.flush()
            except Exception:
                pass
            import tempfile

            tmp = tempfile.TemporaryFile()
            saved = os.dup(2)
            os.dup2(tmp.fileno(), 2)
        except (OSError, ValueError):
            if saved is not None:
                os.close(saved)
            saved = None
        if saved is None:
            if tmp is not None:
                tmp.close()
            yield
            return
        try:
            yield
        finally:
            try:
                sys.stderr.flush()
            except Exception:
                pass
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            kept = b"".join(ln for ln in tmp.read().splitlines(keepends=True) if not _LOAD_NOISE.match(ln))
            tmp.close()
            if kept:
                try:
                    os.write(2, kept)
                except OSError:
                    pass


def _interpreter_module(name: str):
    if name == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        mod = importlib.import_module("tensorflow")
        return mod.lite
    return importlib.import_module(_MODULES[name])


def available_backends() -> list[str]:
    """The backends that import here, in order of preference (tensorflow is
    only probed when it is already installed, without importing it)."""
    out = []
    for name in BACKENDS:
        if name == "tensorflow":
            if importlib.util.find_spec("tensorflow") is not None:
                out.append(name)
            continue
        try:
            importlib.import_module(_MODULES[name])
            out.append(name)
        except Exception:
            pass
    return out


def resolve_backend(name: str = "auto") -> str:
    if name not in ("auto",) + BACKENDS:
        raise ValueError(f"backend must be 'auto' or one of {BACKENDS}, got {name!r}")
    names = BACKENDS if name == "auto" else (name,)
    errors = []
    for n in names:
        try:
            _interpreter_module(n)
            return n
        except Exception as e:  # ImportError, or a broken install
            errors.append(f"{n}: {e.__class__.__name__}: {e}")
    raise BackendError(
        "no TFLite interpreter could be imported (" + "; ".join(errors) + "). "
        "Install LiteRT: pip install ai-edge-litert")


def _info(name, d) -> TensorInfo:
    q = d.get("quantization", (0.0, 0)) or (0.0, 0)
    return TensorInfo(name=name, shape=tuple(int(v) for v in d["shape"]), dtype=np.dtype(d["dtype"]),
                      scale=float(q[0]), zero_point=int(q[1]))


class TFLiteModel:
    """One TFLite model, called with and returning float32 arrays by name.

    ``TFLiteModel(content_bytes, num_threads=2, backend="auto", delegates=())``.
    """

    def __init__(self, content: bytes, *, num_threads: int | None = None, backend: str = "auto",
                 delegates=(), name: str = "model"):
        self.name = name
        self.backend = resolve_backend(backend)
        mod = _interpreter_module(self.backend)
        kwargs = {"model_content": bytes(content)}
        if num_threads is not None:
            kwargs["num_threads"] = int(num_threads)
        if delegates:
            kwargs["experimental_delegates"] = list(delegates)
        try:
            with warnings.catch_warnings(), quiet_model_loading():
                warnings.simplefilter("ignore")
                self._interp = mod.Interpreter(**kwargs)
                sigs = self._interp.get_signature_list()
                if sigs:
                    key = "serving_default" if "serving_default" in sigs else next(iter(sigs))
                    self._runner = self._interp.get_signature_runner(key)
                    ins = self._runner.get_input_details()
                    outs = self._runner.get_output_details()
                else:  # a model without signatures: flat tensor order
                    self._runner = None
                    self._interp.allocate_tensors()
                    ins = {d["name"]: d for d in self._interp.get_input_details()}
                    outs = {d["name"]: d for d in self._interp.get_output_details()}
        except Exception as e:
            raise BackendError(f"{name}: the {self.backend} interpreter could not load this model: {e}") from e
        self.inputs = {k: _info(k, v) for k, v in ins.items()}
        self.outputs = {k: _info(k, v) for k, v in outs.items()}
        self._in_details = ins
        self._invoked = False

    @staticmethod
    def _quantize(x: np.ndarray, info: TensorInfo) -> np.ndarray:
        if info.quantized:
            ii = np.iinfo(info.dtype)
            q = np.round(x / info.scale + info.zero_point)
            return np.clip(q, ii.min, ii.max).astype(info.dtype)
        return x.astype(info.dtype, copy=False)

    @staticmethod
    def _dequantize(y: np.ndarray, info: TensorInfo) -> np.ndarray:
        if info.quantized:
            return (y.astype(np.float32) - info.zero_point) * info.scale
        return y.astype(np.float32, copy=False)

    def __call__(self, **inputs) -> dict[str, np.ndarray]:
        missing = set(self.inputs) - set(inputs)
        extra = set(inputs) - set(self.inputs)
        if missing or extra:
            raise ValueError(f"{self.name}: expected inputs {sorted(self.inputs)}, got {sorted(inputs)}")
        feed = {}
        for k, info in self.inputs.items():
            x = np.asarray(inputs[k], np.float32)
            if x.shape != info.shape:
                raise ValueError(f"{self.name}: input {k!r} has shape {x.shape}, the model expects {info.shape}")
            feed[k] = self._quantize(x, info)
        if self._invoked:
            out = self._invoke(feed)
        else:  # the runtime applies its delegate (and says so on fd 2) at the first invoke
            with quiet_model_loading():
                out = self._invoke(feed)
            self._invoked = True
        return {k: self._dequantize(v, self.outputs[k]) for k, v in out.items()}

    def _invoke(self, feed: dict) -> dict:
        if self._runner is not None:
            return self._runner(**feed)
        for k, d in self._in_details.items():
            self._interp.set_tensor(d["index"], feed[k])
        self._interp.invoke()
        return {k: self._interp.get_tensor(d["index"]) for k, d in
                {d["name"]: d for d in self._interp.get_output_details()}.items()}
