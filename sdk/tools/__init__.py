"""Tools around the runtime, not part of it. They may load ``handsdk.train``
lazily; the runtime never imports them.

* ``bench`` - ``handsdk bench``, the SDK beside MediaPipe (:func:`run_bench`;
  re-exports its parts' names):

  * ``bench_samples`` - which images from which sets, the latency frames;
  * ``bench_systems`` - running the SDK and MediaPipe on the same frames;
  * ``bench_metrics`` - scene / keypoint / gesture / latency numbers, targets;
  * ``bench_report`` - tables, markdown / JSON, the worst-frames PNG;
  * MediaPipe's models, virtual environment and workers are
    :mod:`handsdk.train.mediapipe` (the training data uses them too);

* ``profiling`` - ``handsdk profile``: latency, size, memory, accuracy;
* ``latency`` - the one latency summary (p50 / p90 / mean);
* ``demo`` - the synthetic ``handsdk run --demo`` clip;
* ``spelling_eval`` - CER / WER of fingerspelling
  (``python -m handsdk.tools.spelling_eval``).
"""
