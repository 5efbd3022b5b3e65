"""The seed's fusion architectures as harness candidates: MultiModN, tensor fusion, co-attention.

Each entry of :data:`ARCHITECTURES` follows the candidate protocol of
:mod:`clinfusion.training.candidates`: ``fit(data, train_ids, config, inner_val) -> Fitted`` with a
picklable ``Fitted.risk(data, ids) -> [N]`` (higher = higher hazard). Training, identical for the
three:

- token z-scores (:class:`~clinfusion.training.preprocess.TokenStandardizer`) and the covariate
  encoding are fitted on the training fold only; the covariates are one more input modality;
- Cox partial likelihood (Breslow), full batch, AdamW; MultiModN sums it over its per-step
  predictions and shuffles the modality order every epoch;
- early stopping on the inner split (``inner_val``: True rows of ``train_ids``; None: the
  harness's own ``optim.inner_val_fraction`` split), keeping the best inner-validation loss;
- seeded from ``config.seed`` (initialisation, dropout, order); deterministic on CPU with
  ``config.optim.threads`` threads.

Sizes (:class:`ArchitectureSettings`) are small on purpose: a 120-patient 5-fold CV of one
architecture takes about a minute on one core.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from clinfusion.training.config import TrainConfig
from clinfusion.training.dataset import CohortData
from clinfusion.training.flat import fit_covariates
from clinfusion.training.padded import COVARIATES, padded_inputs
from clinfusion.training.preprocess import TokenStandardizer


@dataclass(frozen=True, kw_only=True)
class ArchitectureSettings:
    """Sizes and optimisation of one architecture (defaults: minutes for a 120-patient CV).

    Attributes:
        hidden: width of token encoders and states.
        dropout: dropout inside the network.
        lr / weight_decay: AdamW.
        epochs / patience: full-batch epochs and early-stopping patience on the inner split.
        max_tokens: tokens per patient and modality kept (evenly spaced; slides have hundreds of tiles).
    """

    hidden: int = 16
    dropout: float = 0.1
    lr: float = 3e-3
    weight_decay: float = 1e-2
    epochs: int = 150
    patience: int = 20
    max_tokens: int = 128


@dataclass
class FittedArchitecture:
    """One trained architecture with its fold-fitted preprocessing (picklable).

    Attributes:
        name: registry name; model: the torch module (eval mode).
        dims: ``{input: token dim}`` in the model's order (covariates first when present).
        standardizer / covariates: fitted on the training fold.
        settings: sizes used; history: per-epoch train / inner-validation losses.
    """

    name: str
    model: Any
    dims: dict[str, int]
    standardizer: TokenStandardizer
    covariates: Any | None
    settings: ArchitectureSettings
    history: list[dict[str, float]] = field(default_factory=list)

    def inputs(self, data: CohortData, ids: Sequence[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        return padded_inputs(data, ids, self.dims, self.standardizer, self.covariates, self.settings.max_tokens)

    def risk(self, data: CohortData, ids: Sequence[str]) -> np.ndarray:
        """Log-hazard scores ``[N]`` of ``ids`` (modalities a patient lacks are absent, not imputed)."""
        import torch

        tokens, masks = self.inputs(data, list(ids))
        self.model.eval()
        with torch.no_grad():
            return self.model(tokens, masks)["risk"].numpy().astype(float)


def _cox(out: Mapping[str, Any], time: Any, event: Any) -> Any:
    from clinfusion.models.losses import cox_ph_loss

    return cox_ph_loss(out["risk"], time, event, on_no_events="zero")


def _stepwise_cox(out: Mapping[str, Any], time: Any, event: Any) -> Any:
    """MultiModN's loss: the Cox loss of every step's prediction, summed over steps."""
    from clinfusion.models.losses import cox_ph_loss

    steps = out["step_risk"]
    return sum(cox_ph_loss(steps[:, k], time, event, on_no_events="zero") for k in range(steps.shape[1]))


def _build_multimodn(dims: dict[str, int], s: ArchitectureSettings) -> Any:
    from clinfusion.models.multimodn import MultiModN

    return MultiModN(dims, hidden=s.hidden, dropout=s.dropout)


def _build_tensor_fusion(dims: dict[str, int], s: ArchitectureSettings) -> Any:
    from clinfusion.models.tensor_fusion import TensorFusion

    return TensorFusion(dims, hidden=s.hidden, head_hidden=s.hidden, dropout=max(s.dropout, 0.25))


def _build_coattention(dims: dict[str, int], s: ArchitectureSettings) -> Any:
    from clinfusion.models.coattention import CoAttention

    return CoAttention(dims, hidden=s.hidden, dropout=s.dropout)


def _inner_mask(data: CohortData, train_ids: list[str], config: TrainConfig, inner_val: np.ndarray | None) -> np.ndarray:
    """``inner_val`` as a bool mask over ``train_ids``; None: the trainer's stratified inner split."""
    if inner_val is None:
        from clinfusion.training.candidates import inner_mask

        return inner_mask(data, train_ids, config)
    mask = np.asarray(inner_val, dtype=bool)
    if mask.shape != (len(train_ids),) or mask.all() or not mask.any():
        raise ValueError(f"inner_val must be a bool mask over the {len(train_ids)} training ids with both "
                         f"training and validation rows, got shape {mask.shape} with {int(mask.sum())} True")
    return mask


@dataclass(frozen=True)
class Architecture:
    """A registered architecture: how to build it, its loss, whether training shuffles the modality order."""

    name: str
    build: Callable[[dict[str, int], ArchitectureSettings], Any]
    loss: Callable[[Mapping[str, Any], Any, Any], Any] = _cox
    shuffle_order: bool = False
    settings: ArchitectureSettings = ArchitectureSettings()

    def applies(self, data: CohortData) -> bool:
        """Any cohort with a token modality or a covariate column."""
        return bool(data.tokens) or data.covariates.shape[1] > 0

    def fit(self, data: CohortData, train_ids: Sequence[str], config: TrainConfig,
            inner_val: np.ndarray | None = None) -> FittedArchitecture:
        """Fit preprocessing on ``train_ids`` and train with early stopping on the ``inner_val`` rows."""
        import torch

        train_ids = list(train_ids)
        torch.set_num_threads(config.optim.threads)
        torch.manual_seed(config.seed)
        mask = _inner_mask(data, train_ids, config, inner_val)
        cov = fit_covariates(data, train_ids)
        cov = cov if cov is not None and cov.width else None  # no covariate token of width 0
        dims = ({COVARIATES: cov.width} if cov is not None else {}) | data.dims()
        fit = FittedArchitecture(self.name, self.build(dims, self.settings), dims,
                                 TokenStandardizer.fit(data.tokens, train_ids), cov, self.settings)
        ids = np.asarray(train_ids)
        self._train(fit, data, list(ids[~mask]), list(ids[mask]), torch.Generator().manual_seed(config.seed))
        return fit

    def _train(self, fit: FittedArchitecture, data: CohortData, train: list[str], val: list[str], gen: Any) -> None:
        """Full-batch AdamW on ``train``; keeps the state of the best ``val`` loss (fixed modality order)."""
        import torch

        from clinfusion.models.early_stopping import EarlyStopping

        s, model = fit.settings, fit.model
        xs = {k: (fit.inputs(data, ids), torch.as_tensor(data.time[data.index(ids)], dtype=torch.float32),
                  torch.as_tensor(data.event[data.index(ids)], dtype=torch.float32)) for k, ids in (("tr", train), ("va", val))}
        opt = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=s.weight_decay)
        stopper = EarlyStopping(model, patience=s.patience)
        names = list(fit.dims)
        for epoch in range(s.epochs):
            model.train()
            (tok, msk), t, e = xs["tr"]
            kw = {"order": [names[i] for i in torch.randperm(len(names), generator=gen).tolist()]} if self.shuffle_order else {}
            loss = self.loss(model(tok, msk, **kw), t, e)
            opt.zero_grad()
            loss.backward()
            opt.step()
            model.eval()
            (tok, msk), t, e = xs["va"]
            with torch.no_grad():
                vloss = float(self.loss(model(tok, msk), t, e))
            fit.history.append({"epoch": epoch, "train_loss": float(loss.detach()), "val_loss": vloss})
            if stopper.step(vloss):
                break
        stopper.restore()
        model.eval()


ARCHITECTURES: dict[str, Architecture] = {
    "multimodn": Architecture("multimodn", _build_multimodn, _stepwise_cox, shuffle_order=True),
    "tensor_fusion": Architecture("tensor_fusion", _build_tensor_fusion),
    "coattention": Architecture("coattention", _build_coattention),
}
"""Registry of the seed architectures (merged into ``clinfusion.training.candidates.registry()``)."""
