"""The runtime's model engines, one module each: :mod:`.tflite` (LiteRT,
tflite_runtime or tf.lite), :mod:`.onnx` (onnxruntime), :mod:`.tensorrt`
(Jetson engines); :mod:`.common` holds what they share. :func:`open_model`
picks the engine from a model's bytes. The engines' own libraries are
imported only when a model of theirs is loaded."""
from __future__ import annotations

from .common import TENSORRT_MAGIC, BackendError, BackendModel, TensorInfo
from .onnx import OnnxModel, is_onnx
from .tensorrt import TensorRTModel
from .tflite import BACKENDS, TFLiteModel, available_backends, quiet_model_loading, resolve_backend

__all__ = ["BACKENDS", "TENSORRT_MAGIC", "BackendError", "BackendModel", "OnnxModel", "TFLiteModel", "TensorInfo",
           "TensorRTModel", "available_backends", "model_suffix", "open_model", "quiet_model_loading",
           "resolve_backend"]


def model_suffix(content: bytes) -> str:
    """The file suffix of a model's bytes: ``.engine`` (a handsdk TensorRT
    engine), ``.onnx`` or ``.tflite``, the ``suffix`` column of
    :data:`handsdk.convert.formats.FORMATS`. :func:`open_model` dispatches on
    the same test."""
    content = bytes(content[:8])
    return ".engine" if content[:4] == TENSORRT_MAGIC else ".onnx" if is_onnx(content) else ".tflite"


def open_model(content: bytes, *, num_threads: int | None = None, backend: str = "auto", delegates=(),
               name: str = "model") -> BackendModel:
    """A TFLite model (:class:`TFLiteModel`), an ONNX model (:class:`OnnxModel`)
    or a TensorRT engine (:class:`TensorRTModel`, deserialised on a Jetson at
    its first call)."""
    suffix = model_suffix(content)
    if suffix == ".engine":
        return TensorRTModel(content, name=name)
    if suffix == ".onnx":
        return OnnxModel(content, num_threads=num_threads, name=name)
    return TFLiteModel(content, num_threads=num_threads, backend=backend, delegates=delegates, name=name)
