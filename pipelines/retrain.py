"""Scheduled cohort retraining as a Prefect flow (``clinfusion.retrain.prefect_flow``).

    python -m pipelines.retrain --workspace WS [--config CFG] [--force]       # one flow run now
    python -m pipelines.retrain --workspace WS --cron "0 2 * * 0" [--config CFG]  # serve on a schedule

Without Prefect, ``clinfusion retrain`` runs the same steps once (``clinfusion.retrain.cycle.retrain``).
Point runs at a Prefect server with ``PREFECT_API_URL`` (docs/retrain.md).
"""

from __future__ import annotations

import argparse
import json
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--config", default=None, help="retrain YAML (default: the packaged default_retrain.yaml)")
    parser.add_argument("--force", action="store_true", help="train even without new data")
    parser.add_argument("--cron", default=None, help='serve a deployment on this cron schedule, e.g. "0 2 * * 0"')
    args = parser.parse_args(argv)
    from clinfusion.retrain.prefect_flow import deployment, retrain_flow

    if args.cron:
        from prefect import serve

        serve(deployment(args.workspace, args.cron, config=args.config))
        return 0
    out = retrain_flow(args.workspace, args.config, args.force)
    print(json.dumps({k: out.get(k) for k in ("status", "ingest", "featurize")}, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
