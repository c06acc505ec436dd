"""The plots the training tools write as PNGs (one implementation each)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_confusion(cm, names, path, title: str = ""):
    """The confusion matrix as a PNG at ``path``: rows are the true classes,
    colours row-normalised, each non-zero cell's count written in it (up to 40
    classes; beyond that the colours alone)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, np.float64)
    n = len(names)
    if cm.shape != (n, n):
        raise ValueError(f"a confusion matrix of {n} classes must be {n}x{n}, got {cm.shape}")
    side = max(4.0, 0.45 * n + 2)
    fig, ax = plt.subplots(figsize=(side, side))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n)), ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7), ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    if title:
        ax.set_title(title, fontsize=9)
    if n <= 40:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=6,
                            color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
