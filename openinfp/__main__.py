"""``python -m openinfp`` runs the CLI."""

import sys

from openinfp.cli import main

sys.exit(main())
