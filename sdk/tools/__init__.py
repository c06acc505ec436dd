"""Tools around the runtime, not part of it: ``bench`` (the SDK beside
MediaPipe, with the standalone ``mediapipe_worker.py`` script), ``profiling``
(``handsdk profile``: latency, size, memory, accuracy), ``latency`` (the one
latency summary: p50 / p90 / mean), ``demo`` (the synthetic ``handsdk run
--demo`` clip) and ``spelling_eval`` (CER / WER of fingerspelling,
``python -m handsdk.tools.spelling_eval``). They may load ``handsdk.train``
lazily; the runtime never imports them."""
