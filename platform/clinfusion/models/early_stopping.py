"""Early stopping on a validation loss, keeping the best weights in memory (no checkpoints on disk).

Used by every epoch loop in the package (the fusion trainer, ``models.baselines.mlp.CoxMLP``):

    stopper = EarlyStopping(model, patience=20)
    for epoch in range(epochs):
        ...one epoch of training, then the validation loss v...
        if stopper.step(v):
            break
    stopper.restore()  # the weights of the best epoch (or the initial ones if none improved)
"""

from __future__ import annotations

import copy
from typing import Any, Protocol


class HasState(Protocol):
    """Anything with torch's ``state_dict`` / ``load_state_dict`` (a ``torch.nn.Module``)."""

    def state_dict(self) -> Any: ...

    def load_state_dict(self, state: Any) -> Any: ...


class EarlyStopping:
    """Track the lowest validation loss and stop after ``patience`` epochs without improvement.

    An epoch improves when its loss is below the best so far by more than ``min_delta``; then its
    weights are copied (a deep copy of ``state_dict()``) and the wait count resets. A NaN loss
    never improves. The initial weights are the fallback, so :meth:`restore` always has a state.

    Args:
        module: the model being trained (its state is copied, never saved to a file).
        patience: epochs without improvement before :meth:`step` says stop (>= 1).
        min_delta: the improvement that counts (same units as the loss).

    Raises:
        ValueError: ``patience`` below 1.
    """

    def __init__(self, module: HasState, patience: int, min_delta: float = 1e-4) -> None:
        if patience < 1:
            raise ValueError(f"early stopping patience must be >= 1, got {patience}")
        self.module, self.patience, self.min_delta = module, int(patience), float(min_delta)
        self.best = float("inf")
        self.best_epoch = -1
        self.wait = 0
        self.epoch = -1
        self._state = copy.deepcopy(module.state_dict())

    def step(self, val_loss: float) -> bool:
        """Record one epoch's validation loss; True when training should stop now."""
        self.epoch += 1
        v = float(val_loss)
        if v < self.best - self.min_delta:
            self.best, self.best_epoch, self.wait = v, self.epoch, 0
            self._state = copy.deepcopy(self.module.state_dict())
            return False
        self.wait += 1
        return self.wait >= self.patience

    def restore(self) -> None:
        """Load the best epoch's weights (the initial weights when no epoch improved) into the module."""
        self.module.load_state_dict(self._state)
