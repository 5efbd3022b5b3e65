"""Drive the review app in Streamlit's ``AppTest``: log a user in on the login page."""

from __future__ import annotations

from typing import Any


def login(at: Any, user: str, password: str) -> Any:
    """Run ``at`` (an :class:`streamlit.testing.v1.AppTest`), submit the login form, return it rerun."""
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(password)
    at.button[0].click()
    return at.run()
