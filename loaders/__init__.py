"""Turn published policy texts into the measures table.  No Streamlit here: the CLI, tests and
pages all call the same functions on text and bytes."""
