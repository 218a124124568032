"""Messages that show text from users or policy sources as text, never as Markdown.

``st.error``, ``st.success`` and friends render their body as Markdown (links, images,
``$…$`` as KaTeX, ``:material/…:`` icons).  Notes, unit names, file and sheet names come
from people we don't control, so every message that may contain them goes through here,
and so does every widget label built from data (:func:`label`): buttons, download
buttons, selectboxes, expanders, tabs and metrics render their labels as Markdown too.
Each ASCII punctuation character is backslash-escaped (CommonMark allows that for all of
them, and the escaped character is shown literally) and line breaks are kept.

>>> print(plain("见 [链接](x) $a$"))
见 \\[链接\\]\\(x\\) \\$a\\$
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import streamlit as st

from tracker.errors import TrackerError

# Errors shown to users as a message keep their traceback here (the server's log).
_log = logging.getLogger("tracker.webui")

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it character for character."""
    escaped = _PUNCTUATION.sub(r"\\\1", str(text))
    # Markdown joins single line breaks; two trailing spaces keep each line on its own.
    return escaped.replace("\r\n", "\n").replace("\n", "  \n")


def label(text: object) -> str:
    """A widget label with data in it, escaped like a message: Streamlit renders Markdown in
    the labels of buttons, download buttons, selectboxes, expanders, tabs and metrics too.

    >>> print(label("下载「![u](http://x)」"))
    下载「\\!\\[u\\]\\(http\\:\\/\\/x\\)」
    """
    return plain(text)


def error(text: object) -> None:
    """An error message; an exception passed in is also logged with its traceback."""
    if isinstance(text, BaseException):
        _log.warning("shown to the user: %s", text, exc_info=text)
    st.error(plain(text))


def warning(text: object) -> None:
    st.warning(plain(text))


def success(text: object) -> None:
    st.success(plain(text))


def info(text: object) -> None:
    st.info(plain(text))


def caption(text: object) -> None:
    st.caption(plain(text))


# --- a write, then its outcome after the rerun that shows the new data ----------------------

_FLASH = "safe_flash"


def attempt(action: Callable[[], object], message: str) -> None:
    """Run ``action`` (a write); a refusal shows as an error here, success reruns the page
    (so it draws the new data) and shows ``message`` there, through :func:`flash`."""
    try:
        action()
    except TrackerError as exc:
        error(exc)
        return
    st.session_state[_FLASH] = message
    st.rerun()


def flash() -> None:
    """Show the message of the write that caused this rerun, if any."""
    message = st.session_state.pop(_FLASH, None)
    if message:
        success(message)
