"""A DICOMweb client from a cohort.yaml ``dicomweb`` block, with bounded retries and readable errors.

Retried (up to ``retries`` attempts, waits ``backoff_s * 2**k`` capped at 30 s): connection errors,
timeouts, HTTP 408, 429 and every 5xx. Other 4xx fail at once. The final error is a
:class:`PacsError` naming the operation and the HTTP status (or the network error's type); it never
carries a URL (its path would hold study/series/instance UIDs) nor the server's response text.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from clinfusion.cohort.spec import DicomWebSpec
from clinfusion.errors import ConfigError, IngestError

T = TypeVar("T")
RETRIED_STATUS = frozenset({408, 429})
MAX_WAIT_S = 30.0


class PacsError(IngestError):
    """A DICOMweb request failed for good.

    Attributes:
        status: the last HTTP status, or ``None`` for a network error / timeout.
    """

    def __init__(self, message: str, *, status: int | None = None, field: str = "") -> None:
        super().__init__(message, field=field)
        self.status = status


AUTH_FIELD = "modalities.radiology.dicomweb.auth"


def _env(name: str | None, what: str, field: str = AUTH_FIELD) -> str:
    value = os.environ.get(name or "")
    if not value:
        file = "cohort.yaml" if field.startswith("modalities.") else ""
        raise ConfigError(f"environment variable {name!r} ({what} for the DICOMweb server) is not set",
                          file=file, field=field)
    return value


def make_client(cfg: DicomWebSpec, url: str | None = None, *, field: str = AUTH_FIELD) -> Any:
    """A ``dicomweb_client.DICOMwebClient`` for ``cfg`` (or another base ``url`` with the same auth).

    Its own retry logic is switched off: :func:`call` retries, boundedly, for every request.
    ``field`` names where the auth was configured, for the error (e.g. ``modalities.ecg.dicomweb.auth``
    or a CLI option).

    Raises:
        ConfigError: an auth environment variable is not set.
    """
    from dicomweb_client.api import DICOMwebClient
    from dicomweb_client.session_utils import create_session_from_user_pass

    kwargs: dict[str, Any] = {"url": url or cfg.url, "timeout": cfg.timeout_s}
    if cfg.auth is not None and cfg.auth.type == "basic":
        kwargs["session"] = create_session_from_user_pass(_env(cfg.auth.username_env, "user name", field),
                                                          _env(cfg.auth.password_env, "password", field))
    elif cfg.auth is not None:
        kwargs["headers"] = {"Authorization": f"Bearer {_env(cfg.auth.token_env, 'bearer token', field)}"}
    client = DICOMwebClient(**kwargs)
    client.set_http_retry_params(retry=False)
    return client


def _status(err: BaseException) -> int | None:
    response = getattr(err, "response", None)
    return int(response.status_code) if response is not None and getattr(response, "status_code", None) else None


def _retryable(err: BaseException) -> bool:
    import requests

    status = _status(err)
    if status is not None:
        return status in RETRIED_STATUS or status >= 500
    return isinstance(err, requests.ConnectionError | requests.Timeout)


def call(fn: Callable[[], T], what: str, cfg: DicomWebSpec, *, sleep: Callable[[float], None] = time.sleep) -> T:
    """Run one DICOMweb request with bounded retries.

    Args:
        fn: the request (no arguments).
        what: operation for the error message, e.g. ``"QIDO-RS study search"`` (no identifiers).
        cfg: retries and backoff.
        sleep: the wait function (tests pass a fake).

    Raises:
        PacsError: the request failed ``cfg.retries`` times, or with a status that is not retried.
    """
    import requests

    for attempt in range(1, cfg.retries + 1):
        try:
            return fn()
        except (requests.RequestException, OSError) as err:
            status = _status(err)
            if not _retryable(err) or attempt == cfg.retries:
                how = f"HTTP {status}" if status is not None else f"network error ({type(err).__name__})"
                tries = f" after {attempt} attempt(s)" if _retryable(err) else ""
                raise PacsError(f"{what} failed: {how}{tries}", status=status, field="dicomweb") from None
            sleep(min(cfg.backoff_s * 2 ** (attempt - 1), MAX_WAIT_S))
    raise AssertionError("unreachable: retries >= 1")
