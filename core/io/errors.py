"""The one error type readers and writers raise for bad input."""

from __future__ import annotations

from pathlib import Path


class FormatError(ValueError):
    """A file that cannot be read or written; ``str(e)`` is one line naming the file."""

    def __init__(self, path: str | Path, problem: str) -> None:
        # a newline or other control character in a file name must not break the one line
        self.path = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in str(path))
        self.problem = " ".join(str(problem).split())  # one line
        super().__init__(f"{self.path}: {self.problem}")
