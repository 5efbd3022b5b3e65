"""Orchestrated flows composing the library (ingest, featurize, train, retrain) and the demo."""
