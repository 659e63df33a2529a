"""``python -m fhn_inverse.cli`` runs the command line, as ``python -m fhn_inverse`` does."""

import sys

from . import main

__all__: list[str] = []

sys.exit(main())
