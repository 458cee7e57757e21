"""``python -m tracer`` runs the ``trace`` command line."""

import sys

from tracer.cli import main

sys.exit(main())
