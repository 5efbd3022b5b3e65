"""On-disk cache of intra-modality edges (``WS/graphs/edges/``), keyed by what the edges depend on.

Building k-NN / overlap edges is the only costly step of a patient graph, and it is repeated for
every fold, candidate and ensemble member. The key of a token set's edges hashes the edge strategy,
its parameters and exactly the inputs that strategy reads: positions (spatial k-NN), positions and
groups (sequential), gene lists (set overlap) or the token values (feature k-NN, whose input is the
fold's standardised tokens, so each fold has its own entries). A changed token cache therefore
never reuses stale edges, and two identical inputs share one file.

The key deliberately did not change when k-NN moved from a dense distance matrix to a KD-tree
(:func:`clinfusion.graph.edges.knn_neighbours`): the tree's edges are identical, ties included, so
existing entries stay valid (tests/graph/test_knn_kdtree.py pins the digest). Any change of
edge *values* must add a version to the hashed header instead.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from clinfusion.featurize.tokens import TokenSet


class EdgeCache:
    """Edges by content key, in memory and as ``<root>/<key[:2]>/<key>.npy`` (``[2, E]`` int64).

    Args:
        root: cache folder (e.g. ``workspace.root / "graphs" / "edges"``); ``None``: memory only.
    """

    def __init__(self, root: Path | None = None) -> None:
        self.root = root
        self._mem: dict[str, np.ndarray] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(modality: str, strategy: str, params: dict, ts: TokenSet) -> str:
        """Hash of the strategy, its parameters and the inputs it reads (see module docstring)."""
        h = hashlib.sha256(json.dumps([modality, strategy, params, ts.n_tokens], sort_keys=True).encode())
        if strategy == "spatial_knn" and ts.positions is not None:
            h.update(np.ascontiguousarray(ts.positions[:, :2], dtype=np.float64).tobytes())
        elif strategy == "sequential":
            for arr in (ts.positions, None if ts.groups is None else np.asarray(ts.groups)):
                h.update(b"-" if arr is None else np.ascontiguousarray(arr).tobytes())
        elif strategy == "set_overlap":
            h.update(json.dumps(ts.meta.get("set_members") if isinstance(ts.meta, dict) else None).encode())
        else:  # feature k-NN (also the fallback of the others): the token values themselves
            h.update(np.ascontiguousarray(ts.tokens, dtype=np.float32).tobytes())
        return h.hexdigest()

    def _path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / key[:2] / f"{key}.npy"

    def get(self, key: str) -> np.ndarray | None:
        if key in self._mem:
            self.hits += 1
            return self._mem[key]
        path = self._path(key)
        if path is not None and path.exists():
            self._mem[key] = np.load(path)
            self.hits += 1
            return self._mem[key]
        self.misses += 1
        return None

    def put(self, key: str, edge_index: np.ndarray) -> None:
        self._mem[key] = edge_index
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.save(fh, edge_index)
        os.replace(tmp, path)
