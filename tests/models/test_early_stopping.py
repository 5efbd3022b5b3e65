"""The shared early-stopping helper: stop epoch, best weights, NaN losses; and its two users."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from clinfusion.models.early_stopping import EarlyStopping


def _naive(losses: list[float], patience: int, min_delta: float = 1e-4) -> tuple[int, int]:
    """(epoch at which training stops, best epoch) written out as the loops used to do it."""
    best, best_epoch, wait = float("inf"), -1, 0
    for epoch, v in enumerate(losses):
        if v < best - min_delta:
            best, best_epoch, wait = v, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return epoch, best_epoch
    return len(losses) - 1, best_epoch


@pytest.mark.parametrize("patience", [1, 2, 3, 5])
def test_stops_where_the_written_out_loop_stops_and_restores_the_best_weights(patience: int) -> None:
    rng = np.random.default_rng(patience)
    losses = list(1.0 / np.arange(1, 30) + rng.normal(0, 0.02, 29))
    losses[7] = float("nan")
    model = torch.nn.Linear(1, 1, bias=False)
    stopper = EarlyStopping(model, patience=patience)
    stopped = len(losses) - 1
    for epoch, v in enumerate(losses):
        with torch.no_grad():
            model.weight.fill_(float(epoch))  # the weights say which epoch they come from
        if stopper.step(v):
            stopped = epoch
            break
    assert (stopped, stopper.best_epoch) == _naive(losses, patience)
    stopper.restore()
    assert model.weight.item() == stopper.best_epoch


def test_initial_weights_come_back_when_nothing_improves_and_patience_is_checked() -> None:
    model = torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(-1.0)
    stopper = EarlyStopping(model, patience=2)
    with torch.no_grad():
        model.weight.fill_(5.0)
    assert not stopper.step(float("nan")) and stopper.step(float("nan"))
    stopper.restore()
    assert model.weight.item() == -1.0 and stopper.best_epoch == -1
    with pytest.raises(ValueError, match="patience must be >= 1"):
        EarlyStopping(model, patience=0)


def test_cox_mlp_keeps_the_weights_of_its_best_validation_epoch() -> None:
    from clinfusion.models.baselines.mlp import CoxMLP
    from clinfusion.models.losses import cox_ph_loss

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    t, e = rng.exponential(np.exp(-2.0 * x[:, 0])), np.ones(200)
    val = np.zeros(200, bool)
    val[::4] = True
    m = CoxMLP(patience=3, epochs=200, lr=0.01).fit(x, t, e, val)
    again = CoxMLP(patience=3, epochs=200, lr=0.01).fit(x, t, e, val)
    np.testing.assert_array_equal(m.risk(x), again.risk(x))  # deterministic for a seed
    first = CoxMLP(patience=3, epochs=1, lr=0.01).fit(x, t, e, val)  # the weights after epoch 0

    def val_loss(model: CoxMLP) -> float:
        risk = torch.as_tensor(model.risk(x[val]), dtype=torch.float32)
        return float(cox_ph_loss(risk, torch.as_tensor(t[val]), torch.as_tensor(e[val]), on_no_events="zero"))

    # Epoch 0 is one of the candidates, so the kept weights are at least as good on validation.
    assert val_loss(m) < val_loss(first) - 1e-4
