"""The registered model (the stack by default, the fusion model, or any candidate) as an MLflow pyfunc
that predicts from patients' token bundles.

The fusion model alone is logged as ``spec.json`` + ``weights.pt`` (:class:`FusionPyfunc`); any
other model (a :class:`~clinfusion.training.servable.ServableModel`: the stack with its fitted
candidates and weights, or one candidate) as a pickle ``model.pkl`` (:class:`ServablePyfunc`).

Input: a DataFrame with a ``bundle`` column (:func:`~clinfusion.tracking.bundle.bundle_to_json`)
and the clinical covariate columns the model was trained with. Output: a DataFrame with
``risk`` and ``surv_<k>`` (survival at the end of discrete bin k) and, with a diagnosis head,
``p_<class>``.
"""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

import pandas as pd
from mlflow.pyfunc.model import PythonModel  # = mlflow.pyfunc.PythonModel (mypy resolves only this path)

from clinfusion.training.outputs import predictions_frame  # re-exported: the pyfunc's output table

# Distributions the served model imports besides mlflow (which mlflow pins itself): measured as the
# sys.modules of a fresh process after ``load_model`` + ``predict``, mapped to distributions with
# ``importlib.metadata.packages_distributions``. clinfusion itself travels as ``code_paths``.
SERVING_DISTRIBUTIONS = ("numpy", "pandas", "pyarrow", "pydantic", "PyYAML", "cloudpickle", "torch", "torch-geometric",
                         "scipy", "scikit-learn", "scikit-survival", "lifelines")
"""The last four: the stack's classical candidates (forests, CoxNet, boosted trees, lifelines Cox)."""


class FusionPyfunc(PythonModel):
    """Loads ``spec.json`` and ``weights.pt`` artifacts and rebuilds the fitted model."""

    def load_context(self, context) -> None:
        import torch

        from clinfusion.training.trainer import rebuild

        spec = json.loads(Path(context.artifacts["spec"]).read_text())
        state = torch.load(context.artifacts["weights"], map_location="cpu", weights_only=True)
        self.fit = rebuild(spec, state)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from clinfusion.tracking.bundle import bundle_from_json
        from clinfusion.training.trainer import predict_bundles

        return predictions_frame(self.fit, predict_bundles(self.fit, [bundle_from_json(b) for b in model_input["bundle"]],
                                                           model_input.drop(columns=["bundle"])))


class ServablePyfunc(PythonModel):
    """Loads the pickled :class:`~clinfusion.training.servable.ServableModel` (``model.pkl``)."""

    def load_context(self, context) -> None:
        import pickle

        with open(context.artifacts["model"], "rb") as f:
            self.fit = pickle.load(f)  # the artifact this package wrote at training time (trusted store)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> pd.DataFrame:
        from clinfusion.tracking.bundle import bundle_from_json

        bundles = [bundle_from_json(b) for b in model_input["bundle"]]
        return predictions_frame(self.fit, self.fit.predict_bundles(bundles, model_input.drop(columns=["bundle"])))


def log_pyfunc(mlflow_module, fit, tmp: Path):
    """Log ``fit`` as the run's ``fusion`` pyfunc model (artifact name kept for older readers): a
    :class:`~clinfusion.training.trainer.FittedFusion` as spec + weights, anything else pickled.

    Returns:
        mlflow's model info (``model_uri``).
    """
    import pickle

    import torch

    from clinfusion.training.trainer import FittedFusion

    tmp = Path(tmp)
    model: PythonModel
    if isinstance(fit, FittedFusion):
        (tmp / "spec.json").write_text(json.dumps(fit.spec()))
        torch.save(fit.model.state_dict(), tmp / "weights.pt")
        model, artifacts = FusionPyfunc(), {"spec": str(tmp / "spec.json"), "weights": str(tmp / "weights.pt")}
    else:
        with open(tmp / "model.pkl", "wb") as f:
            pickle.dump(fit, f)
        model, artifacts = ServablePyfunc(), {"model": str(tmp / "model.pkl")}
    return mlflow_module.pyfunc.log_model(name="fusion", python_model=model, artifacts=artifacts,
                                          code_paths=[str(package_code(tmp / "code"))],  # servable without clinfusion
                                          pip_requirements=serving_requirements())  # pinned to this environment


def serving_requirements() -> list[str]:
    """``name==version`` of every :data:`SERVING_DISTRIBUTIONS` as installed in this (the training)
    environment: the served model gets the library versions it was trained and checked with.

    A local version label (``torch==2.13.0+cpu``) is dropped, so that the requirement installs from
    PyPI on any machine (a CPU or CUDA build of the same release).

    Raises:
        ConfigError: a distribution the model needs is not installed here.
    """
    from clinfusion.errors import ConfigError

    out = []
    for name in SERVING_DISTRIBUTIONS:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            raise ConfigError(f"the served model needs {name}, which is not installed", field="pip_requirements") from None
        out.append(f"{name}=={version.split('+', 1)[0]}")
    return out


def package_code(dest: Path) -> Path:
    """A copy of the ``clinfusion`` package (sources and package data, no caches) under ``dest``,
    logged with the model as ``code_paths`` so that it loads where clinfusion is not installed.

    Returns:
        ``dest / "clinfusion"``.
    """
    import clinfusion

    src = Path(clinfusion.__file__).resolve().parent
    return Path(shutil.copytree(src, Path(dest) / "clinfusion",
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".*")))
