"""What every engine module shares: the tensor description, the one error
type, the TensorRT file magic and the interface a loaded model has."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

#: the first bytes of a handsdk TensorRT engine file (:mod:`handsdk.backends.tensorrt`)
TENSORRT_MAGIC = b"HTRT"


class BackendError(RuntimeError):
    """No usable interpreter, or a model the interpreter cannot load."""


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple
    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.dtype in (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16)) and self.scale > 0


class BackendModel(Protocol):
    """A loaded model: called with float32 arrays by input name, returns
    float32 arrays by output name; ``backend`` names the engine that runs it."""

    name: str
    backend: str
    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]: ...
