"""MLflow tracking: the only package that imports mlflow (imported lazily by its functions).

``run.log_training`` logs a training run and registers the fusion pyfunc; ``bundle`` holds the
JSON token-bundle format the pyfunc reads.
"""

from __future__ import annotations

from clinfusion.tracking.bundle import bundle_from_json, bundle_to_json

__all__ = ["bundle_from_json", "bundle_to_json"]
