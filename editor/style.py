"""A dark Fusion palette that matches the viewport and the timeline."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def apply_dark_theme(app: QApplication) -> None:
    app.setStyle("Fusion")
    p = QPalette()
    base, window, text = QColor("#1b1e23"), QColor("#262a31"), QColor("#d8dde3")
    for role, color in (
        (QPalette.ColorRole.Window, window),
        (QPalette.ColorRole.WindowText, text),
        (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor("#22262c")),
        (QPalette.ColorRole.ToolTipBase, QColor("#30353d")),
        (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, QColor("#2e333b")),
        (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.BrightText, QColor("#ff6b6b")),
        (QPalette.ColorRole.Highlight, QColor("#3d7bd9")),
        (QPalette.ColorRole.HighlightedText, QColor("#ffffff")),
        (QPalette.ColorRole.Link, QColor("#7fb0ff")),
        (QPalette.ColorRole.PlaceholderText, QColor("#7c8590")),
    ):
        p.setColor(role, color)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#6b727c"))
    app.setPalette(p)
    app.setStyleSheet(
        "QToolBar { spacing: 4px; border: none; } QDockWidget::title { padding: 4px 6px; }"
        "QStatusBar QLabel { color: #aab3bd; }"
    )
