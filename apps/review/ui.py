"""Shared pieces of the review app: workspace, login and session, cached loaders over clinfusion.review."""

from __future__ import annotations

import io
import os
from pathlib import Path

import streamlit as st
from clinfusion.review import audit, workspace_data
from clinfusion.review.store import ReviewError
from clinfusion.review.users import Session, authenticate, validate_session
from clinfusion.workspace import Workspace

TTL_MINUTES = float(os.environ.get("CLINFUSION_SESSION_MINUTES", "480"))


@st.cache_resource
def _open(root: str) -> Workspace:
    return Workspace.open(root)


def workspace() -> Workspace:
    """The workspace named by ``CLINFUSION_WORKSPACE`` (set by `clinfusion app`)."""
    root = os.environ.get("CLINFUSION_WORKSPACE")
    if not root:
        st.error("CLINFUSION_WORKSPACE is not set: start the app with `clinfusion app --workspace WS`")
        st.stop()
    return _open(root)


def current_session() -> Session | None:
    """The logged-in session, or None. It is re-checked against the user store on every page run:
    an expired session, or one whose user was removed or had their role or password changed
    since login, is dropped with a notice (and the revocation is audited)."""
    s = st.session_state.get("session")
    if s is None:
        return None
    why = validate_session(workspace().root, s)
    if not why:
        return s
    st.session_state.clear()
    if why == "expired":
        st.warning("your session expired: please log in again")
    else:
        audit.record(workspace().root, s.username, s.role, "session_revoked", reason=why)
        st.warning("your account was changed or removed by an administrator: please log in again")
    return None


def client_id() -> str:
    """Who is knocking, for login back-off: the remote address, else this browser session's id."""
    ip = getattr(st.context, "ip_address", None)
    if ip:
        return f"ip:{ip}"
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return f"session:{ctx.session_id}" if ctx is not None else ""


def login_form() -> None:
    """The login form; on success stores the session and reruns. Attempts are audited and throttled
    in the library (:func:`clinfusion.review.users.authenticate`); the typed name is never stored."""
    st.title("ClinFusion review")
    with st.form("login"):
        username = st.text_input("user name")
        password = st.text_input("password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        try:
            s = authenticate(workspace().root, username, password, ttl_minutes=TTL_MINUTES, client=client_id())
        except ReviewError as err:
            st.error(err.message)
            return
        st.session_state["session"] = s
        st.rerun()


def sidebar(session: Session) -> None:
    """Who is logged in, and a logout button."""
    with st.sidebar:
        st.caption(f"logged in as **{session.username}** ({session.role})")
        st.text_input("model alias shown", value=os.environ.get("CLINFUSION_MODEL_ALIAS") or "champion", key="model_alias",
                      help="registry alias whose model version the app serves, e.g. challenger for a shadow view")
        if st.button("Log out"):
            audit.record(workspace().root, session.username, session.role, "logout")
            st.session_state.clear()
            st.rerun()


def require(permission: str) -> Session:
    """The session if it grants ``permission``; otherwise an error and stop."""
    s = current_session()
    if s is None or not s.can(permission):
        st.error(f"your role may not open this page (needs '{permission}')")
        st.stop()
    return s


def _catalog_stamp(root: str) -> float:
    """Modification time of the catalog: cached views are rebuilt after an ingest (new patients appear)."""
    path = Workspace(Path(root)).catalog_path
    return path.stat().st_mtime if path.exists() else 0.0


def cohort_frame(root: str):
    return _cohort_frame(root, _catalog_stamp(root))


@st.cache_data(show_spinner=False)
def _cohort_frame(root: str, stamp: float):
    return workspace_data.cohort_frame(Workspace(Path(root)))


def timeline(root: str, pid: str):
    return _timeline(root, pid, _catalog_stamp(root))


@st.cache_data(show_spinner=False)
def _timeline(root: str, pid: str, stamp: float):
    return workspace_data.timeline(Workspace(Path(root)), pid)


@st.cache_resource(show_spinner=False)
def axial(path: str):
    return workspace_data.load_axial(Path(path))


@st.cache_data(show_spinner=False)
def genomics(root: str):
    return workspace_data.genomics_scores(Workspace(Path(root)))


def model_alias() -> str:
    """The registry alias whose version the app serves: the sidebar setting, else ``CLINFUSION_MODEL_ALIAS``
    (``clinfusion app --alias``), else ``champion``."""
    return st.session_state.get("model_alias") or os.environ.get("CLINFUSION_MODEL_ALIAS") or "champion"


def predictions(root: str):
    """``(Predictions or None, why)`` of the version holding :func:`model_alias`. The alias is
    resolved through the registry on every rerun, so a promotion or rollback shows at the next one."""
    from clinfusion.review.predictions import resolve

    served, why = resolve(root, model_alias())
    if served is None:
        return None, why
    return _served_predictions(root, served, _tokens_stamp(root))


def _tokens_stamp(root: str) -> float:
    """Newest token-cache index time: cached tables are rebuilt after a featurize (new patients)."""
    return max((p.stat().st_mtime for p in (Path(root) / "tokens").glob("*/*/index.json")), default=0.0)


@st.cache_data(show_spinner=False)
def _served_predictions(root: str, served: dict, stamp: float):
    """Cached per served version (and per token-cache update ``stamp``: new patients get predicted)."""
    from clinfusion.review.predictions import load_served

    return load_served(root, served)


@st.cache_data(show_spinner=False)
def slide_heatmap(root: str, run_id: str, pid: str, item: str, slide_dir: str):
    """``(overlay or None, caption)`` of a slide's per-tile attention under the served model
    (see clinfusion.review.attention); a caption alone when there is no trained model."""
    from clinfusion.review import attention

    preds, _ = predictions(root)
    if preds is None or preds.run_id != run_id:
        return None, "attention heatmap: no served model for this workspace"
    weights = attention.read_patient_attention(preds.artifact_dir / attention.ATTENTION_FILE, pid)
    tokens = None
    if weights is not None and (weights["modality"] == "pathology").any():
        from clinfusion.modalities.pathology.heatmap import prototype_tokens

        tokens = prototype_tokens(Path(root), pid, int((weights["modality"] == "pathology").sum()))
    return attention.slide_heatmap(Path(slide_dir), weights, item, tokens)


def token_features(root: str):
    """Mean-pooled token features of the workspace (similar patients without a logged fused embedding)."""
    return _token_features(root, _tokens_stamp(root))


@st.cache_data(show_spinner=False)
def _token_features(root: str, stamp: float):
    from clinfusion.review.similarity import workspace_token_features

    return workspace_token_features(root)


@st.cache_data(show_spinner=False)
def survival_png(root: str, pid: str, run_id: str) -> bytes:
    """The patient's survival curve with its fold band as PNG (see clinfusion.review.plots)."""
    from clinfusion.review import plots

    preds, _ = predictions(root)
    if preds is None or preds.run_id != run_id:
        raise RuntimeError(f"the predictions of run {run_id} are no longer the served ones; reload the page")
    return png(plots.survival_band_figure(preds.survival_band(pid)))


def png(fig) -> bytes:
    """A matplotlib figure as PNG bytes (the figure is closed)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


@st.cache_data(show_spinner=False)
def ecg_png(artifact_dir: str, window: int) -> bytes:
    from clinfusion.modalities.ecg.artifact import load_signal
    from clinfusion.review.plots import ecg_figure

    a = load_signal(Path(artifact_dir))
    return png(ecg_figure(a.signal[window], a.fs_hz, a.present, f"window {window + 1} of {len(a.signal)}; 25 mm/s, 10 mm/mV"))
