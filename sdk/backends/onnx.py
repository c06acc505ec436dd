"""ONNX models run by onnxruntime (bundles exported with ``--format onnx``);
onnxruntime is imported only when such a model is loaded."""
from __future__ import annotations

import numpy as np

from .common import BackendError, TensorInfo


def is_onnx(content: bytes) -> bool:
    """ONNX files are protobufs (they start with the ir_version field, 0x08);
    TFLite flatbuffers carry 'TFL3' at bytes 4..8."""
    return content[4:8] != b"TFL3" and content[:1] == b"\x08"


class OnnxModel:
    """An ONNX model run by onnxruntime, with the same interface as
    :class:`handsdk.backends.tflite.TFLiteModel`."""

    def __init__(self, content: bytes, *, num_threads: int | None = None, backend: str = "onnxruntime",
                 delegates=(), name: str = "model"):
        self.name = name
        self.backend = "onnxruntime"
        try:
            import onnxruntime as ort
        except ImportError as e:
            raise BackendError(f"{name}: this is an ONNX model; install onnxruntime (pip install "
                               f"'handsdk[onnx]') or use a .tflite bundle") from e
        so = ort.SessionOptions()
        so.log_severity_level = 3  # errors only: its warnings (coloured, about shapes) are not the user's to act on
        if num_threads:
            so.intra_op_num_threads = int(num_threads)
        try:
            self._sess = ort.InferenceSession(bytes(content), so, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise BackendError(f"{name}: onnxruntime could not load this model: {e}") from e
        _dt = {"tensor(float)": np.float32, "tensor(float16)": np.float16, "tensor(int8)": np.int8,
               "tensor(uint8)": np.uint8, "tensor(int32)": np.int32}

        def info(t):
            return TensorInfo(t.name, tuple(int(v) if isinstance(v, int) else 1 for v in t.shape),
                              np.dtype(_dt.get(t.type, np.float32)), 0.0, 0)

        self.inputs = {t.name: info(t) for t in self._sess.get_inputs()}
        self.outputs = {t.name: info(t) for t in self._sess.get_outputs()}

    def __call__(self, **inputs):
        if set(inputs) != set(self.inputs):
            raise ValueError(f"{self.name}: expected inputs {sorted(self.inputs)}, got {sorted(inputs)}")
        names = list(self.outputs)
        outs = self._sess.run(names, {k: np.asarray(v, np.float32) for k, v in inputs.items()})
        return {k: np.asarray(v, np.float32) for k, v in zip(names, outs)}
