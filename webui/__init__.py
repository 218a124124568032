"""Streamlit-side glue: cached data access and shared widgets.  The only package besides
``pages/`` and ``dashboard.py`` that may import streamlit."""
