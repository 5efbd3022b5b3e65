"""Negative Cox partial log-likelihood with Breslow ties."""

from __future__ import annotations

from typing import Any

from clinfusion.models.errors import ModelError


def cox_ph_loss(risk: Any, time: Any, event: Any, *, on_no_events: str = "raise") -> Any:
    """Mean negative Cox partial log-likelihood over events (Breslow's handling of ties).

    ``loss = -1/n_events * sum_{i: event} [eta_i - log sum_{j: t_j >= t_i} exp(eta_j)]``.

    The risk-set sums come from one ``logcumsumexp`` over patients sorted by decreasing time:
    O(n log n) instead of the O(n^2) double loop. With ties, every patient tied at ``t_i`` is in
    the risk set of ``i`` (Breslow), so each tied group reads the cumulative sum at its *last*
    position in the descending order.

    Args:
        risk: log-hazard ratios ``eta``.
        time: follow-up times (any unit).
        event: 1 event, 0 censored.
        on_no_events: ``"raise"`` (:class:`ModelError`) or ``"zero"`` (returns a zero that
            keeps the graph, so a mini-batch without events contributes no gradient).

    Shapes:
        risk, time, event: ``[B]``; output: scalar.
    """
    import torch

    risk = risk.reshape(-1)
    event = event.reshape(-1).to(risk.dtype)
    n_events = event.sum()
    if n_events.item() == 0:
        if on_no_events == "zero":
            return risk.sum() * 0.0
        raise ModelError(
            f"Cox partial likelihood is undefined for a batch without events ({risk.numel()} censored patients); "
            "use a larger batch or on_no_events='zero'",
            field="event",
        )
    order = torch.argsort(time.reshape(-1), descending=True, stable=True)
    t_sorted = time.reshape(-1)[order]
    r_sorted = risk[order]
    lcse = torch.logcumsumexp(r_sorted, dim=0)
    _, inverse, counts = torch.unique_consecutive(t_sorted, return_inverse=True, return_counts=True)
    group_end = torch.cumsum(counts, 0) - 1
    log_risk_set = lcse[group_end[inverse]]
    return -((r_sorted - log_risk_set) * event[order]).sum() / n_events
