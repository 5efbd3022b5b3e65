"""``@writes_workspace(command)``: hold the workspace lock around a CLI command that writes a workspace.

The decorated command must take the workspace directory as its ``workspace`` parameter. The wait
timeout is the root option ``--lock-timeout`` (``clinfusion --lock-timeout 60 train ...``), else
``$CLINFUSION_LOCK_TIMEOUT``, else the default of :mod:`clinfusion.workspace.lock`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from clinfusion.cli.console import STATE, err_console


def _wait_message(message: str) -> None:
    err_console.print(message, highlight=False, markup=False)


def writes_workspace(command: str, *, create: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a command so that it runs under the workspace lock (see :func:`workspace_lock`).

    Args:
        command: the name shown to a writer that waits (``"train"``, ``"registry promote"``).
        create: the command may create the workspace directory (``ingest``).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def locked(*args: Any, **kwargs: Any) -> Any:
            from clinfusion.workspace.lock import workspace_lock

            workspace = signature.bind_partial(*args, **kwargs).arguments["workspace"]
            with workspace_lock(workspace, command, timeout=STATE.get("lock_timeout"), create=create,
                                on_wait=_wait_message):
                return fn(*args, **kwargs)

        return locked

    return decorate
