"""``python -m asyncdi check|graph MODULE:ATTRIBUTE``: see :mod:`asyncdi._cli`."""

from asyncdi._cli import main

raise SystemExit(main())
