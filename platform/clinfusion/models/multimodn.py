"""MultiModN (Swamy et al., NeurIPS 2023): a shared state updated one modality at a time.

A learned initial state ``s_0`` is passed through one encoder per modality in sequence,
``s_k = GRU_m(summary_m, s_{k-1})``, and one decoder reads a risk after every step. A modality a
patient lacks is *skipped* (``s_k = s_{k-1}``): nothing is imputed, so the model never sees a
fake value for an absent modality and the prediction is exactly that of the sequence without the
step. This is what makes it robust to missing-not-at-random data by design: absence changes which
steps run, not the inputs of the steps that do. The order is free (training shuffles it, so every
encoder learns to update any state); inference uses the fixed order of ``modalities``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from torch import nn

from clinfusion.models.token_pool import TokenSetEncoder, present_rows


class MultiModN(nn.Module):
    """Sequential modular multimodal survival model.

    Args:
        dims: token dimension per modality (its order is the inference order); clinical
            covariates are one more modality with a single token.
        hidden: width of the state and of every encoder.
        dropout: dropout on projected tokens.

    Shapes:
        tokens: ``{m: [B, T_m, D_m]}`` (zero padding); masks: ``{m: [B, T_m]}`` bool (an all-False
        row: the patient lacks ``m``). Outputs: ``risk [B]`` (after the last step),
        ``step_risk [B, S]`` (after each of the S steps run, in order), ``state [B, hidden]``.
    """

    def __init__(self, dims: Mapping[str, int], hidden: int = 16, dropout: float = 0.1) -> None:
        super().__init__()
        self.modalities = list(dims)
        self.state0 = nn.Parameter(torch.zeros(hidden))
        self.encoders = nn.ModuleDict({m: TokenSetEncoder(d, hidden, dropout) for m, d in dims.items()})
        self.updates = nn.ModuleDict({m: nn.GRUCell(hidden, hidden) for m in dims})
        self.decoder = nn.Linear(hidden, 1)

    def forward(self, tokens: Mapping[str, torch.Tensor], masks: Mapping[str, torch.Tensor],
                order: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
        """Run the steps of ``order`` (default ``modalities``; a subset skips the others for everyone)."""
        steps = list(self.modalities if order is None else order)
        unknown = [m for m in steps if m not in self.encoders]
        if unknown:
            raise KeyError(f"order names modalities {unknown} the model has no encoder for; known: {self.modalities}")
        n = next(iter(masks.values())).shape[0]
        state = self.state0.expand(n, -1)
        risks = []
        for m in steps:
            present = present_rows(masks[m])
            _, summary = self.encoders[m](tokens[m], masks[m])
            state = torch.where(present[:, None], self.updates[m](summary, state), state)
            risks.append(self.decoder(state).squeeze(-1))
        step_risk = torch.stack(risks, 1) if risks else self.decoder(state).squeeze(-1)[:, None]
        return {"risk": step_risk[:, -1], "step_risk": step_risk, "state": state}
