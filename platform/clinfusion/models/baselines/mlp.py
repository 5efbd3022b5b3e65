"""Early-concatenation MLP with a Cox loss (DeepSurv-style) on pooled features of every modality."""

from __future__ import annotations

from typing import Any

import numpy as np


class CoxMLP:
    """``Linear -> GELU -> Dropout -> Linear(1)``, full-batch AdamW, early stopping on an inner split.

    Shapes:
        x: ``[N, F]`` standardised; risk: ``[N]``.
    """

    def __init__(self, hidden: int = 32, dropout: float = 0.3, lr: float = 1e-3, weight_decay: float = 1e-2,
                 epochs: int = 200, patience: int = 20, seed: int = 0) -> None:
        self.hp: dict[str, Any] = dict(hidden=hidden, dropout=dropout, lr=lr, weight_decay=weight_decay,
                                       epochs=epochs, patience=patience)
        self.seed = seed
        self.net: Any = None  # torch.nn.Sequential once fitted (torch is imported lazily)

    def fit(self, x: np.ndarray, time: np.ndarray, event: np.ndarray, inner_val: np.ndarray) -> CoxMLP:
        import torch
        from torch import nn

        from clinfusion.models.early_stopping import EarlyStopping
        from clinfusion.models.losses import cox_ph_loss

        torch.manual_seed(self.seed)
        hp = self.hp
        self.net = nn.Sequential(nn.Linear(x.shape[1], hp["hidden"]), nn.GELU(), nn.Dropout(hp["dropout"]), nn.Linear(hp["hidden"], 1))
        xt, tt, et = (torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in (x, time, event))
        tr, va = torch.as_tensor(~inner_val), torch.as_tensor(inner_val)
        opt = torch.optim.AdamW(self.net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
        stopper = EarlyStopping(self.net, patience=hp["patience"])
        for _ in range(hp["epochs"]):
            self.net.train()
            loss = cox_ph_loss(self.net(xt[tr]).squeeze(-1), tt[tr], et[tr], on_no_events="zero")
            opt.zero_grad()
            loss.backward()
            opt.step()
            self.net.eval()
            with torch.no_grad():
                v = float(cox_ph_loss(self.net(xt[va]).squeeze(-1), tt[va], et[va], on_no_events="zero"))
            if stopper.step(v):
                break
        stopper.restore()
        self.net.eval()
        return self

    def risk(self, x: np.ndarray) -> np.ndarray:
        import torch

        with torch.no_grad():
            return self.net(torch.as_tensor(np.asarray(x), dtype=torch.float32)).squeeze(-1).numpy().astype(float)
