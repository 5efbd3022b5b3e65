"""Genomics: expression, copy-number and mutation tables -> gene-set tokens (see ``read.py``, ``features.py``)."""
