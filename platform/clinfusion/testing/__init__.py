"""Test helpers shared by the test-suite, notebooks and benchmarks (like ``torch_geometric.testing``).

Nothing here is imported by the library itself.
"""

from __future__ import annotations

from clinfusion.testing.cohorts import TinyCohort, write_tiny_cohort
from clinfusion.testing.data import requires_shared_data, shared_data_dir

__all__ = ["TinyCohort", "requires_shared_data", "shared_data_dir", "write_tiny_cohort"]
