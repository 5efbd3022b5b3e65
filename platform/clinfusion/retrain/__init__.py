"""Scheduled cohort retraining: new data -> incremental featurization -> challenger -> gate -> promote.

| module | what |
|---|---|
| ``config.py`` | :class:`RetrainConfig` (gate, drift, overrides) and ``default_retrain.yaml`` |
| ``steps.py`` | each step as a plain function (ingest, featurize, drift, train, gate) |
| ``cycle.py`` | :func:`retrain`: one retraining cycle, the steps chained once without an orchestrator |
| ``gate.py`` | the promotion gate: paired bootstrap of the C-index difference, IBS, subgroups |
| ``drift.py`` | drift of new patients: availability, PSI / KS of features, outcome rates |
| ``overrides.py`` | clinicians' review overrides as corrected labels, with provenance |
| ``prefect_flow.py`` | the same steps as Prefect tasks and flow, and the cron deployment (needs prefect) |
"""

from __future__ import annotations

from clinfusion.retrain.config import RetrainConfig, load_retrain_config

__all__ = ["RetrainConfig", "load_retrain_config"]
