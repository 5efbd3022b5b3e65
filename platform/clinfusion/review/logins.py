"""Failed-login back-off and lockout, per user name and per client, kept in the review store.

After the k-th failed login of a subject (a user name, or a client address) within
``window_s``, that subject's next attempt is refused until ``backoff_base_s * 2**(k-1)`` seconds
(capped at ``backoff_max_s``) have passed since the last failure; from ``max_failures`` failures on it is
locked out for ``lockout_s``. A successful login clears the user's and the client's failures.
Subjects are stored as keyed hashes, never as typed text. Refused attempts are answered without
checking the password, the same way for existing and unknown users.

Configure with environment variables (read when the app starts a login):
``CLINFUSION_LOGIN_MAX_FAILURES`` (5), ``CLINFUSION_LOGIN_LOCKOUT_S`` (900),
``CLINFUSION_LOGIN_BACKOFF_S`` (1), ``CLINFUSION_LOGIN_BACKOFF_MAX_S`` (60), ``CLINFUSION_LOGIN_WINDOW_S`` (900).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import sqlalchemy as sa

from clinfusion.review.store import LOGIN_FAILURES, ReviewError, engine

ENV = {"max_failures": "CLINFUSION_LOGIN_MAX_FAILURES", "lockout_s": "CLINFUSION_LOGIN_LOCKOUT_S",
       "backoff_base_s": "CLINFUSION_LOGIN_BACKOFF_S", "backoff_max_s": "CLINFUSION_LOGIN_BACKOFF_MAX_S",
       "window_s": "CLINFUSION_LOGIN_WINDOW_S"}


@dataclass(frozen=True, kw_only=True)
class LoginPolicy:
    """Back-off and lockout limits (seconds; ``max_failures`` a count)."""

    max_failures: int = 5
    lockout_s: float = 900.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    window_s: float = 900.0

    def __post_init__(self) -> None:
        if self.max_failures < 1 or min(self.lockout_s, self.backoff_base_s, self.backoff_max_s, self.window_s) < 0:
            raise ReviewError("login limits must be >= 0 and max_failures >= 1", field="max_failures")

    @classmethod
    def from_env(cls) -> LoginPolicy:
        """The policy with every limit set in the environment (see the module docstring).

        Raises:
            ReviewError: a value that is not a number (the variable is named).
        """
        values: dict[str, float | int] = {}
        for f in fields(cls):
            raw = os.environ.get(ENV[f.name], "").strip()
            if not raw:
                continue
            try:
                values[f.name] = int(raw) if f.name == "max_failures" else float(raw)
            except ValueError:
                raise ReviewError(f"expected a number, got {raw!r}", field=ENV[f.name]) from None
        return cls(**values)

    def wait_s(self, n_failures: int) -> float:
        """Seconds a subject must wait after its last failure, given ``n_failures`` recent ones."""
        if n_failures <= 0:
            return 0.0
        if n_failures >= self.max_failures:
            return self.lockout_s
        return min(self.backoff_base_s * 2.0 ** (n_failures - 1), self.backoff_max_s)


def retry_after(times: Sequence[float], policy: LoginPolicy, now: float) -> float:
    """Seconds until the next attempt is allowed (0: now) given a subject's failure times (Unix s)."""
    recent = [t for t in times if now - t < max(policy.window_s, policy.lockout_s)]
    counted = [t for t in recent if now - t < policy.window_s] if len(recent) < policy.max_failures else recent
    if not counted:
        return 0.0
    return max(0.0, max(counted) + policy.wait_s(len(counted)) - now)


def failures(ws_root: str | Path, subjects: Sequence[str], *, db: str | None = None) -> dict[str, list[float]]:
    """``{subject: [failure times]}`` for the given subjects (keyed hashes)."""
    out: dict[str, list[float]] = {s: [] for s in subjects}
    q = sa.select(LOGIN_FAILURES.c.subject, LOGIN_FAILURES.c.time).where(LOGIN_FAILURES.c.subject.in_(list(subjects)))
    with engine(ws_root, db).connect() as con:
        for subject, t in con.execute(q):
            out[subject].append(float(t))
    return out


def add_failure(ws_root: str | Path, subjects: Sequence[str], now: float, policy: LoginPolicy, *,
                db: str | None = None) -> None:
    """Record one failure for each subject and forget failures older than the policy can use."""
    horizon = now - 2 * max(policy.window_s, policy.lockout_s)
    with engine(ws_root, db).begin() as con:
        con.execute(sa.insert(LOGIN_FAILURES), [{"subject": s, "time": now} for s in subjects])
        con.execute(sa.delete(LOGIN_FAILURES).where(LOGIN_FAILURES.c.time < horizon))


def clear(ws_root: str | Path, subjects: Sequence[str], *, db: str | None = None) -> None:
    """Forget the failures of the given subjects (after a successful login)."""
    with engine(ws_root, db).begin() as con:
        con.execute(sa.delete(LOGIN_FAILURES).where(LOGIN_FAILURES.c.subject.in_(list(subjects))))
