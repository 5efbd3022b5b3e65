"""Patient graphs (one HeteroData per patient, modalities masked) and the cohort similarity graph.

Torch and PyG are imported inside the functions that need them, so importing this package is cheap.
"""

from __future__ import annotations

from clinfusion.graph.build import HUB, align_schema, build_patient_graph, intra_edges
from clinfusion.graph.cohort import SimilarityGraph, cohort_similarity_graph
from clinfusion.graph.config import EDGE_STRATEGIES, GraphConfig, load_graph_config
from clinfusion.graph.loader import graph_loader

__all__ = [
    "EDGE_STRATEGIES",
    "HUB",
    "GraphConfig",
    "SimilarityGraph",
    "align_schema",
    "build_patient_graph",
    "cohort_similarity_graph",
    "graph_loader",
    "intra_edges",
    "load_graph_config",
]
