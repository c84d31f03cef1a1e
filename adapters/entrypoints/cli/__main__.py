"""``python -m adapters.entrypoints.cli``: the ``bewijslast`` command without its script."""

import sys

from adapters.entrypoints.cli.main import main

sys.exit(main())
