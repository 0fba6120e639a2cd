"""``python main.py [FILE] [--screenshot OUT.png] [--smplx DIR]``: the Signframe editor."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

T0 = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SAMPLE = ROOT / "assets" / "samples" / "default.signframe"
log = logging.getLogger("signframe")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python main.py", description="Signframe: keyframe editor for 3D signing")
    p.add_argument("file", nargs="?", help="a project (.signframe) or any importable motion file")
    p.add_argument(
        "--screenshot",
        metavar="OUT.png",
        help="open, wait for the first in-betweening result, save the window to OUT.png, exit",
    )
    p.add_argument("--smplx", metavar="DIR", help="draw the real SMPL-X mesh from this model folder")
    p.add_argument("--settings", metavar="INI", help=argparse.SUPPRESS)  # tests: a private settings file
    p.add_argument("--recovery-dir", metavar="DIR", help=argparse.SUPPRESS)
    p.add_argument("--timeout", type=float, default=120.0, help=argparse.SUPPRESS)
    return p


def load_initial(path: str | None):
    """(sequence, path or None, error or None): FILE, else the bundled sample, else the demo."""
    from core.io import FormatError, read

    if path:
        try:
            return read(path), Path(path), None
        except FormatError as e:
            return None, None, str(e)
    if DEFAULT_SAMPLE.is_file():
        try:
            return read(DEFAULT_SAMPLE), DEFAULT_SAMPLE, None
        except FormatError as e:
            log.warning("default sample unreadable (%s); opening the demo", e)
    from .demo import demo_sequence

    return demo_sequence(), None, None


def run(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("Signframe")
    app.setApplicationName("Signframe")
    app.setApplicationDisplayName("Signframe")
    from .style import apply_dark_theme

    apply_dark_theme(app)
    settings = QSettings(args.settings, QSettings.Format.IniFormat) if args.settings else QSettings()

    seq, path, error = load_initial(args.file)
    if error and args.screenshot:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if seq is None:
        seq, path, _ = load_initial(None)

    from .main_window import MainWindow

    win = MainWindow(seq, path, settings=settings, smplx_dir=args.smplx, recovery_dir=args.recovery_dir)
    win.show()
    log.info("window up after %.2f s", time.perf_counter() - T0)
    if error:
        QTimer.singleShot(0, lambda: win.report_error(win, "Cannot open file", error))

    if args.screenshot:
        return _screenshot(app, win, Path(args.screenshot), args.timeout)

    if not args.screenshot:
        QTimer.singleShot(300, lambda: _offer_recovery(win, args.recovery_dir))
    return app.exec()


def _offer_recovery(win, folder) -> None:
    from .autosave import pending_recovery
    from .dialogs import ask_recover

    found = pending_recovery(folder)
    if found is None:
        return
    path, editor = found
    original = editor.get("recovery_of")
    if ask_recover(win, path, original):
        task = win.open_file(path, recovery_of=original or "")
        if task is not None:
            task.done.connect(lambda res, err: win.autosave.save_now())
    else:  # declined: that session's files go (not this window's)
        from .autosave import recovery_files

        for p in recovery_files(path):
            p.unlink(missing_ok=True)


def _screenshot(app, win, out: Path, timeout: float) -> int:
    from PySide6.QtCore import QTimer

    state = {"rc": 1}

    def save() -> None:
        win.viewport.draw_now()
        win.viewport.render_now()
        app.processEvents()
        img = win.grab()
        out.parent.mkdir(parents=True, exist_ok=True)
        ok = img.save(str(out))
        state["rc"] = 0 if ok and not img.isNull() else 1
        if not ok:
            print(f"error: cannot write {out}", file=sys.stderr)
        win.ask_save = lambda: "discard"
        win.close()
        app.quit()

    def timed_out() -> None:
        print(f"error: no in-betweening result within {timeout:g} s", file=sys.stderr)
        win.ask_save = lambda: "discard"
        win.close()
        app.quit()

    # show something worth seeing: the first sign's middle key, the dominant index finger selected
    seq = win.doc.sequence
    mids = [k.frame for k in seq.keyframes if k.kind.value == "mid"] or [k.frame for k in seq.keyframes]
    if mids:
        win.doc.set_current_frame(mids[0])
        win.doc.select_keys([mids[0]])
    win.doc.set_joint(seq.skeleton.names.index("right_index1") if "right_index1" in seq.skeleton.names else -1)
    win.firstResultShown.connect(lambda: QTimer.singleShot(250, save))
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(timed_out)
    guard.start(int(timeout * 1000))
    app.exec()
    return state["rc"]


def main() -> None:
    sys.exit(run(sys.argv[1:]))


if __name__ == "__main__":
    main()
