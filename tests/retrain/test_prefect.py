"""The Prefect flow and its cron deployment, against Prefect's temporary test server (no external server)."""

from __future__ import annotations

import pytest

pytest.importorskip("prefect")


@pytest.fixture(scope="module")
def harness():
    from prefect.testing.utilities import prefect_test_harness

    # the temporary server needs ~1 min to start on a loaded 2-core machine (default timeout 30 s)
    with prefect_test_harness(server_startup_timeout=240):
        yield


@pytest.fixture
def workspace(tmp_path):
    """An ingested and featurized clinical-only cohort: a rerun finds nothing new."""
    from clinfusion.featurize import featurize
    from clinfusion.ingest import ingest
    from clinfusion.modalities.registry import encoder_class
    from clinfusion.testing.cohorts import write_tiny_cohort

    cohort = write_tiny_cohort(tmp_path / "cohort", 12)
    rep = ingest(cohort.root, tmp_path / "ws")
    featurize(rep.workspace, encoder_class("clinical")())
    return tmp_path / "ws"


@pytest.mark.slow
def test_cron_deployment_and_flow_run(harness, workspace, tmp_path):
    import asyncio

    from clinfusion.retrain.prefect_flow import FLOW_NAME, deployment, retrain_flow
    from prefect.client.orchestration import get_client

    cfg = tmp_path / "retrain.yaml"
    cfg.write_text("gate: {n_bootstrap: 50}\n")
    dep = deployment(workspace, "0 2 * * 0", config=cfg)
    assert dep.name == "retrain-ws" and dep.flow_name == FLOW_NAME
    (sched,) = dep.schedules
    assert sched.schedule.cron == "0 2 * * 0" and sched.schedule.timezone == "UTC" and sched.active
    assert dep.parameters == {"workspace": str(workspace.resolve()), "config": str(cfg.resolve()), "force": False}

    dep_id = dep.apply()  # registered with the test server, as `clinfusion schedule` does through serve()

    async def stored():
        async with get_client() as client:
            return await client.read_deployment(dep_id)

    got = asyncio.run(stored())
    assert got.schedules[0].schedule.cron == "0 2 * * 0" and got.parameters["force"] is False

    out = retrain_flow(str(workspace), str(cfg))  # nothing changed since ingest + featurize
    assert out["status"] == "no-new-data" and out["ingest"]["processed"] == 0
    assert out["featurize"][0]["encoded"] == 0 and out["featurize"][0]["cached"] == 12
