"""``python -m loaders``: the command line lives in :mod:`cli`; this keeps the short command."""

from cli import main

raise SystemExit(main())
