"""The browser helpers now live in :mod:`bench.live` (the tests, the browser benchmark and
``scripts/screenshots.py`` share them); kept for test modules that still import them from here."""

from bench.live import (  # noqa: F401
    BROWSER_PASSWORD,
    BROWSER_USER,
    CHROMIUM,
    PAGE_PATHS,
    add_account,
    exceptions_on,
    launch_chromium,
    open_signed_in,
    streamlit_server,
    wait_until_idle,
)
