"""``python -m course_lib`` is the ``course`` command (for environments where the console script is not on PATH)."""

import sys

from course_lib.cli import main

sys.exit(main())
