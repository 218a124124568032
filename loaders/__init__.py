"""Policy texts in, the measures table out: read PDF, DOCX and text policies, parse their
measures and responsible units, keep the unit register, and build and sync ``measures.csv``.
No Streamlit here: the CLI, tests and pages all call the same functions on text and bytes.
Excel workbooks live in :mod:`excel`, the command line in :mod:`cli`."""
