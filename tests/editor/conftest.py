"""A real main window under Xvfb (pytest-xvfb starts it), with private settings and recovery folders."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def settings(tmp_path):
    from PySide6.QtCore import QSettings

    s = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    # The window tests check regenerated frames against core's eased baseline; the bundled
    # model (preferred when its weights are present) is tested in tests/core.
    s.setValue("models/inbetweener", "eased")
    return s


class Errors:
    """An error reporter that records instead of showing a modal box."""

    def __init__(self) -> None:
        self.shown: list[tuple[str, str]] = []

    def __call__(self, parent, title: str, text: str) -> None:
        self.shown.append((title, text))


@pytest.fixture
def demo():
    from editor.demo import demo_sequence

    return demo_sequence()


@pytest.fixture
def make_window(qtbot, settings, tmp_path):
    made = []

    def make(seq=None, path=None, errors=None, **kw):
        from editor.demo import demo_sequence
        from editor.main_window import MainWindow

        w = MainWindow(
            seq if seq is not None else demo_sequence(),
            path,
            settings=settings,
            error_reporter=errors if errors is not None else Errors(),
            recovery_dir=tmp_path / "recovery",
            **kw,
        )
        w.ask_save = lambda: "discard"
        qtbot.addWidget(w)
        w.resize(1280, 860)
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()
        qtbot.waitActive(w)  # window shortcuts need the active window
        qtbot.waitUntil(lambda: w.bridge.results_applied > 0, timeout=10000)  # the first result is in
        made.append(w)
        return w

    yield make
    for w in made:
        w.ask_save = lambda: "discard"
        w.close()


@pytest.fixture
def window(make_window):
    return make_window()
