"""File formats: ``read(path) -> Sequence`` and ``write(path, seq)`` chosen by extension."""

from .errors import FormatError
from .registry import FORMATS, format_for, read, write

__all__ = ["FORMATS", "FormatError", "format_for", "read", "write"]
