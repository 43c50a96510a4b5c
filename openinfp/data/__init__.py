"""Training data: the synthetic conversation corpus, real-recording preparation, shards."""
