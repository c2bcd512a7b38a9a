"""Entry point for `python -m tests.datagen ...`; see datagen.py for the options."""

import sys

from tests.datagen.datagen import main

sys.exit(main())
