"""Entry point for `python -m tests.qdrant_server ...`; see server.py for the options."""

import sys

from tests.qdrant_server.server import main

sys.exit(main())
