"""Evaluation of the three models on pools and on the shared sets; each
model's metrics live with it (``handsdk.train.models.<name>.evaluate``) and
are reached through the models' registry:

* detector: box IoU, P/R/F1 at IoU 0.5, AP, Hand/NoHand accuracy/P/R/F1/ROC
  AUC by skeleton mass (decoding = :func:`handsdk.decode.skeleton_to_boxes`,
  exactly as the runtime);
* pose: PCK at thresholds normalised by the hand box size (curve PNG + AUC),
  mean keypoint error in px at the model input resolution, presence AUC,
  handedness accuracy; the skeleton input is rendered from the reference
  keypoints (``gt``), blank (``none``) or the detector's (``detector``, as
  the runtime does);
* gesture: accuracy, macro-F1, confusion matrix PNG.

Here: :func:`predict` (batched Keras inference), :func:`decode_heatmaps`,
:func:`evaluate_pool` (a trainer pool) and :func:`evaluate_model` (a saved
model on data sources).

``python -m handsdk.train.evaluate <task> --model best.keras --data real:asl_letters/valid``
(also ``handsdk train evaluate``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def predict(model, inputs: dict, batch_size: int = 64) -> dict:
    """Run a Keras model on numpy inputs in batches -> dict of numpy outputs
    keyed by output name."""
    names = list(model.output_names)
    n = len(next(iter(inputs.values())))
    outs = {k: [] for k in names}
    for i in range(0, n, batch_size):
        feed = {k: v[i:i + batch_size] for k, v in inputs.items() if k in model.input_names}
        res = model(feed, training=False)
        if isinstance(res, dict):
            for k in names:
                outs[k].append(np.asarray(res[k]))
        else:
            res = res if isinstance(res, (list, tuple)) else [res]
            for k, r in zip(names, res):
                outs[k].append(np.asarray(r))
    return {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in outs.items()}


# -------------------------------------------------------------------- pose


def decode_heatmaps(heatmaps, size: int) -> np.ndarray:
    """(N, h, w, 21) -> (N, 21, 2) keypoints in model input pixels."""
    from handsdk.decode import landmarker_keypoints  # the runtime's decoding

    out = np.zeros((len(heatmaps), 21, 2), np.float32)
    for i, hm in enumerate(heatmaps):
        out[i] = landmarker_keypoints({"heatmaps": np.asarray(hm)[None]}, size, "heatmaps")
    return out


# -------------------------------------------------------------------- pools


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The validation metrics of ``cfg.task`` on a trainer pool (exported
    model)."""
    from handsdk.train.models import get

    return get(cfg.task).evaluate_pool(model, cfg, pool, labels=labels, plots_dir=plots_dir)


# ----------------------------------------------------------- entry point


def evaluate_model(task: str, model_path, data: list[str], *, skeleton: str = "gt", detector_path=None,
                   limit: int | None = None, out=None, root=None) -> dict:
    """Evaluate a saved ``best.keras`` (with its ``metadata.json`` beside it)
    on data sources (``real:<set>[/<split>]``, ``synth``, ``toy``)."""
    from handsdk.train.config import SourceConfig, config_from_dict
    from handsdk.train.data.sources import iter_source
    from handsdk.train.models import get
    from handsdk.train.trainer import load_exported

    model_path = Path(model_path)
    meta_path = model_path.parent / "metadata.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    cfg_d = dict(meta.get("config") or {"task": task})
    cfg_d["task"] = task
    cfg = config_from_dict(cfg_d)
    task_spec = get(task)
    model = load_exported(model_path)
    rng = np.random.default_rng(0)
    results = {}
    plots = Path(out) if out else None
    if plots:
        plots.mkdir(parents=True, exist_ok=True)
    for spec in data:
        name, _, opt = spec.partition("?")
        opts = dict(kv.split("=", 1) for kv in opt.split("&") if kv) if opt else {}
        import yaml

        for k, v in list(opts.items()):
            opts[k] = yaml.safe_load(f"[{v}]") if "," in v and not v.startswith("[") else yaml.safe_load(v)
        src = SourceConfig(name=name, limit=limit, options=opts)
        samples = list(iter_source(src, rng, limit or 10 ** 9, root=root, task=task_spec.eval_source_task,
                                   size=task_spec.eval_frame_size(cfg)))
        tag = "_" + name.replace(":", "_").replace("/", "_")
        res = task_spec.evaluate_samples(model, cfg, samples, rng, meta=meta, skeleton=skeleton,
                                              detector_path=detector_path, plots_dir=plots, tag=tag)
        res["num_source_samples"] = len(samples)
        results[spec] = res
    if plots:
        (plots / f"eval_{task}.json").write_text(json.dumps(results, indent=1, default=str))
    return results


def main(argv=None):  # python -m handsdk.train.evaluate
    import argparse

    from handsdk.train.config import TASKS

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=list(TASKS))
    p.add_argument("--model", required=True)
    p.add_argument("--data", action="append", required=True)
    p.add_argument("--skeleton", default="gt", choices=["gt", "none", "detector"])
    p.add_argument("--detector")
    p.add_argument("--limit", type=int)
    p.add_argument("--out")
    a = p.parse_args(argv)
    res = evaluate_model(a.task, a.model, a.data, skeleton=a.skeleton, detector_path=a.detector,
                         limit=a.limit, out=a.out)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if not isinstance(vv, (list, dict))}
                      for k, v in res.items()}, indent=1, default=str))


if __name__ == "__main__":
    main()
