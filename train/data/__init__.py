"""Training data: the synthetic hand renderer, readers for the real sets and
the training pipelines."""
