"""Where a command's lines go on stderr: plainly, or above the progress bars when they show."""

from __future__ import annotations

import sys

from netflag.runtime.progress import Progress


class Display:
    """No bars: lines go straight to stderr, and the library hears no phases."""

    progress: Progress | None = None
    showing = False  # bars are on screen now

    def say(self, line: str) -> None:
        """Print one line on stderr (above the bars, when there are some)."""
        sys.stderr.write(line + "\n")
