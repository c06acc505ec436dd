"""TensorRT engines for Jetson, behind the runtime's model interface.

An engine file in a bundle is :data:`handsdk.backends.common.TENSORRT_MAGIC` (``HTRT``)
+ a 4-byte little-endian header length + a JSON header (input/output names,
shapes) + the serialized engine built on the device by
:mod:`handsdk.convert.tensorrt`. TensorRT and CUDA are imported only when such
a model is loaded (JetPack provides both); nothing here runs on a machine
without an NVIDIA GPU.
"""
from __future__ import annotations

import json
import struct

import numpy as np

from .common import TENSORRT_MAGIC, BackendError, TensorInfo


def pack_engine(engine: bytes, inputs: dict, outputs: dict) -> bytes:
    """inputs/outputs: {name: shape}."""
    header = json.dumps({"inputs": {k: list(v) for k, v in inputs.items()},
                         "outputs": {k: list(v) for k, v in outputs.items()}}).encode()
    return TENSORRT_MAGIC + struct.pack("<I", len(header)) + header + engine


def unpack_engine(content: bytes) -> tuple[dict, bytes]:
    if content[:4] != TENSORRT_MAGIC or len(content) < 8:
        raise BackendError("not a handsdk TensorRT engine file")
    (n,) = struct.unpack("<I", content[4:8])
    if n > 1 << 20 or 8 + n > len(content):
        raise BackendError("corrupt TensorRT engine header")
    return json.loads(content[8:8 + n]), content[8 + n:]


class TensorRTModel:
    """Same interface as :class:`handsdk.backends.tflite.TFLiteModel`; the engine is
    deserialised on first call (lazily) so that inspecting a bundle never needs
    a GPU."""

    def __init__(self, content: bytes, *, name: str = "model"):
        self.name = name
        self.backend = "tensorrt"
        header, self._engine_bytes = unpack_engine(content)
        self.inputs = {k: TensorInfo(k, tuple(v), np.dtype(np.float32), 0.0, 0) for k, v in header["inputs"].items()}
        self.outputs = {k: TensorInfo(k, tuple(v), np.dtype(np.float32), 0.0, 0)
                        for k, v in header["outputs"].items()}
        self._ctx = None

    def _load(self):
        try:
            import tensorrt as trt
            import torch  # JetPack's PyTorch gives CUDA buffers without pycuda
        except ImportError as e:
            raise BackendError(f"{self.name}: TensorRT engines run on a Jetson with TensorRT and PyTorch "
                               f"(JetPack); here use a .tflite or ONNX bundle") from e
        logger = trt.Logger(trt.Logger.WARNING)
        engine = trt.Runtime(logger).deserialize_cuda_engine(self._engine_bytes)
        if engine is None:
            raise BackendError(f"{self.name}: TensorRT could not deserialise the engine (built for another "
                               f"GPU or TensorRT version? rebuild it on this device)")
        self._torch = torch
        self._engine = engine
        self._ctx = engine.create_execution_context()
        self._buffers = {}
        for k, info in {**self.inputs, **self.outputs}.items():
            t = torch.empty(info.shape, dtype=torch.float32, device="cuda")
            self._buffers[k] = t
            self._ctx.set_tensor_address(k, t.data_ptr())
        self._stream = torch.cuda.Stream()

    def __call__(self, **inputs):
        if self._ctx is None:
            self._load()
        torch = self._torch
        for k, v in inputs.items():
            self._buffers[k].copy_(torch.from_numpy(np.ascontiguousarray(v, np.float32)))
        self._ctx.execute_async_v3(self._stream.cuda_stream)
        self._stream.synchronize()
        return {k: self._buffers[k].cpu().numpy() for k in self.outputs}
