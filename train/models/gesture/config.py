"""The ``model`` section of a gesture (GestureNet) config (no TensorFlow here)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class GestureModelConfig:
    labels: list[str] = field(default_factory=list)  # class names; empty: taken from the data
    label_set: str = "commands"
    kind: str = "commands"  # "commands" or "fingerspelling" (decoding hint)
    none_label: str | None = "none"
    filters: int = 32
    kernel: int = 7
    hidden: int = 128
    dropout: float = 0.5
    noise: float = 0.02  # Gaussian feature noise at training
    mirror: bool = False  # randomly mirror features (for data of unknown handedness)


def validate(m: GestureModelConfig) -> None:
    """Nothing to check beyond the types."""
