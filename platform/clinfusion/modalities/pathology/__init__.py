"""Pathology: whole-slide images -> tissue tiles at a target resolution -> tile tokens.

Modules: ``backends/`` (one slide reader per file format behind a registry), ``detect`` (format
by content), ``deid`` (what metadata is kept), ``optical_density`` (the one OD conversion), ``tissue``, ``tiling``,
``quality``, ``stain`` (Macenko), ``handcrafted`` and ``cnn`` (tile features), ``prototypes`` (k-means), ``read``
(the ingest reader), ``features`` (encoder registry), ``export``, ``heatmap``.
"""
