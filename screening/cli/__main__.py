"""``python -m magnetscreen.screening.cli``: the ``magnetscreen`` command."""

from magnetscreen.screening.cli.app import main

raise SystemExit(main())
