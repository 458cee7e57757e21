"""``python -m tracer`` runs the ``trace`` command line."""

import sys

try:
    from tracer.cli import main
except KeyboardInterrupt:  # Ctrl-C as trace starts: as quiet as one later on
    print("trace: interrupted", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
