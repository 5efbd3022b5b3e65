"""Shared pieces of the review app: workspace, login and session, cached loaders over clinfusion.review."""

from __future__ import annotations

import io
import os
from pathlib import Path

import streamlit as st
from clinfusion.review import audit, session_tokens, workspace_data
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
        return _session_from_url()
    why = validate_session(workspace().root, s)
    if not why:
        token = st.session_state.get("session_token")
        if token and st.query_params.get(session_tokens.QUERY_PARAM) != token:
            st.query_params[session_tokens.QUERY_PARAM] = token  # page switches drop query params: keep it
        return s
    st.session_state.clear()
    st.query_params.pop(session_tokens.QUERY_PARAM, None)
    if why == "expired":
        st.warning("your session expired: please log in again")
    elif why == "revoked":
        st.warning("you logged out (in this or another tab): please log in again")
    else:
        audit.record(workspace().root, s.username, s.role, "session_revoked", reason=why)
        st.warning("your account was changed or removed by an administrator: please log in again")
    return None


def _session_from_url() -> Session | None:
    """A browser reload starts a new Streamlit session: the signed token in the URL (``?session=``)
    restores the login after server-side validation (:mod:`clinfusion.review.session_tokens`)."""
    token = st.query_params.get(session_tokens.QUERY_PARAM)
    if not token:
        return None
    try:
        s = session_tokens.session_from_token(workspace().root, token)
    except ReviewError as err:
        st.query_params.pop(session_tokens.QUERY_PARAM, None)
        st.warning(f"{err.message}: please log in again")
        return None
    st.session_state["session"], st.session_state["session_token"] = s, token
    return s


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
        token, s = session_tokens.issue(workspace().root, s)
        st.session_state["session"], st.session_state["session_token"] = s, token
        st.query_params[session_tokens.QUERY_PARAM] = token  # survives a reload; see session_tokens
        st.rerun()


def sidebar(session: Session) -> None:
    """Who is logged in, and a logout button."""
    with st.sidebar:
        st.caption(f"logged in as **{session.username}** ({session.role})")
        st.text_input("model alias shown", value=os.environ.get("CLINFUSION_MODEL_ALIAS") or "champion", key="model_alias",
                      help="registry alias whose model version the app serves, e.g. challenger for a shadow view")
        if st.button("Log out"):
            audit.record(workspace().root, session.username, session.role, "logout")
            session_tokens.revoke(workspace().root, session)
            st.session_state.clear()
            st.query_params.clear()
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



@st.cache_data(show_spinner=False, max_entries=64)
def km_png(root: str, run_id: str, pids: tuple[str, ...], by: str, stamp: float) -> tuple[bytes, str, str, float]:
    """The Cohort page's Kaplan-Meier figure as PNG, its title, caption and log-rank p; cached per
    served run id, patient subset (the filters), grouping and catalog ``stamp``, so a rerun that
    changes none of them (e.g. opening a patient) does not refit the curves."""
    from clinfusion.review.cohort import km_groups
    from clinfusion.review.plots import km_figure

    preds = None
    if run_id:
        preds, _ = predictions(root)
        if preds is None or preds.run_id != run_id:
            raise RuntimeError(f"the predictions of run {run_id} are no longer the served ones; reload the page")
    frame = cohort_frame(root)
    km = km_groups(frame[frame["patient_id"].isin(set(pids))], preds, by or None)
    order = ("low", "intermediate", "high", "not predicted") if preds is not None else None
    fig, p = km_figure(km["time"], km["event"], km["groups"], km["title"], order=order)
    return png(fig), km["title"], km["caption"], p


def catalog_stamp(root: str) -> float:
    """Public :func:`_catalog_stamp` (cache key of the Cohort page's figures)."""
    return _catalog_stamp(root)


@st.cache_data(show_spinner=False)
def genomics_data(root: str):
    """The workspace's genomics matrices and gene sets (:func:`clinfusion.modalities.genomics.artifacts.load_genomics`)."""
    from clinfusion.modalities.genomics.artifacts import GenomicsData, load_genomics

    ws = Workspace(Path(root))
    rows = workspace_data.ingested(ws, "genomics")
    return GenomicsData() if rows.empty else load_genomics(ws, rows)


def _served(root: str, run_id: str):
    preds, _ = predictions(root)
    if preds is None or preds.run_id != run_id:
        raise RuntimeError(f"the predictions of run {run_id} are no longer the served ones; reload the page")
    return preds


@st.cache_data(show_spinner=False, max_entries=256)
def survival_days_png(root: str, pid: str, run_id: str, unit: str) -> bytes:
    """The patient's survival curve in ``unit`` with its fold-model band (clinfusion.review.prediction_plots)."""
    from clinfusion.review.prediction_plots import survival_figure

    return png(survival_figure(_served(root, run_id).patient_survival(pid), unit))


@st.cache_data(show_spinner=False, max_entries=256)
def risk_distribution_png(root: str, pid: str, run_id: str) -> bytes:
    """The cohort's risk histogram with the patient and the risk-group thresholds marked."""
    from clinfusion.review.prediction_plots import risk_distribution_figure
    from clinfusion.review.survival import risk_thresholds

    preds = _served(root, run_id)
    ref = preds.reference_risks(pid)
    return png(risk_distribution_figure(ref, preds.risk(pid), risk_thresholds(ref)))
