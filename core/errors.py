"""The error family every layer shares (a leaf module: it imports nothing of ours).

- ``UserError``: a mistake in the command line or the input; the command line prints its one line
  and exits with status 2. File readers raise ``core.io.errors.FormatError`` (also one line).
- ``LoadError``: a model or checkpoint that cannot be used (missing, unreadable, wrong layout).
- ``Cancelled``: a running job was asked to stop (a newer request arrived).
"""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the command line or the input: one line, exit status 2."""


class LoadError(ValueError):
    """A model or checkpoint that cannot be loaded; ``str(e)`` is one line naming the file."""


class Cancelled(Exception):
    """The job was cancelled (a newer request replaced it)."""
