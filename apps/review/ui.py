"""Shared pieces of the review app: workspace, login and session, cached loaders over clinfusion.review."""

from __future__ import annotations

import io
import os
from pathlib import Path

import streamlit as st
from clinfusion.review import audit, views
from clinfusion.review.store import ReviewError
from clinfusion.review.users import Session, authenticate
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
    """The logged-in session, or None (expired sessions are dropped with a notice)."""
    s = st.session_state.get("session")
    if s is not None and not s.valid():
        del st.session_state["session"]
        st.warning("your session expired: please log in again")
        return None
    return s


def login_form() -> None:
    """The login form; on success stores the session and reruns."""
    st.title("ClinFusion review")
    with st.form("login"):
        username = st.text_input("user name")
        password = st.text_input("password", type="password")
        submitted = st.form_submit_button("Log in")
    if submitted:
        root = workspace().root
        try:
            s = authenticate(root, username, password, ttl_minutes=TTL_MINUTES)
        except ReviewError:
            audit.record(root, username or "?", "", "login_failed")
            st.error("unknown user or wrong password")
            return
        audit.record(root, s.username, s.role, "login")
        st.session_state["session"] = s
        st.rerun()


def sidebar(session: Session) -> None:
    """Who is logged in, and a logout button."""
    with st.sidebar:
        st.caption(f"logged in as **{session.username}** ({session.role})")
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


@st.cache_data(show_spinner=False)
def cohort_frame(root: str):
    return views.cohort_frame(Workspace(Path(root)))


@st.cache_data(show_spinner=False)
def timeline(root: str, pid: str):
    return views.timeline(Workspace(Path(root)), pid)


@st.cache_resource(show_spinner=False)
def axial(path: str):
    return views.load_axial(Path(path))


@st.cache_data(show_spinner=False)
def genomics(root: str):
    return views.genomics_scores(Workspace(Path(root)))


@st.cache_data(show_spinner=False, ttl=120)
def predictions(root: str):
    from clinfusion.review.predictions import load_predictions

    return load_predictions(root)


@st.cache_data(show_spinner=False)
def slide_heatmap(root: str, run_id: str, pid: str, item: str, slide_dir: str):
    """``(overlay or None, caption)`` of a slide's per-tile attention under the newest run's model
    (see clinfusion.review.attention); a caption alone when there is no trained model."""
    from clinfusion.review import attention
    from clinfusion.review.experiments import artifact_file

    preds, _ = predictions(root)
    if preds is None or preds.run_id != run_id:
        return None, "attention heatmap: no trained model for this workspace"
    weights = attention.read_patient_attention(artifact_file(preds.artifact_uri, attention.ATTENTION_FILE), pid)
    return attention.slide_heatmap(Path(slide_dir), weights, item)


@st.cache_data(show_spinner=False)
def token_features(root: str):
    """Mean-pooled token features of the workspace (similar patients of runs without fused embeddings)."""
    from clinfusion.review.similarity import workspace_token_features

    return workspace_token_features(root)


@st.cache_data(show_spinner=False)
def survival_png(root: str, pid: str, run_id: str) -> bytes:
    """The patient's survival curve with its fold band as PNG (see clinfusion.review.plots)."""
    from clinfusion.review import plots

    preds, _ = predictions(root)
    if preds is None or preds.run_id != run_id:
        raise RuntimeError(f"the predictions of run {run_id} are no longer the newest; reload the page")
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
