"""Signframe's PySide6 editor: main window, action table, undo commands over core edits, vispy
viewport, pyqtgraph timeline, inspector, Qt bridge to the in-betweening service."""
