"""The one action table: menus, toolbar, shortcuts and the help dialog are all built from it.

Each entry names a handler ``act_<name>`` on the main window or one of its controllers
(``toggled(bool)`` for checkable entries; the speeds: ``PlaybackController.speed_handlers``).
Shortcuts follow Blender's habits where Blender has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QStyle, QToolBar

from .playback import SPEEDS


@dataclass(frozen=True)
class ActionSpec:
    name: str
    menu: str  # top-level menu ("File", ...); "File/Export" makes a submenu
    text: str
    shortcuts: tuple[str, ...] = ()
    tip: str = ""
    toolbar: bool = False
    checkable: bool = False
    checked: bool = False
    group: str | None = None  # exclusive group (radio entries)
    separator: bool = False  # a separator before this entry
    icon: str = ""  # a QStyle standard pixmap name (SP_...)


MENUS = ("File", "Edit", "Key", "View", "Playback", "In-between", "Help")

ACTIONS: tuple[ActionSpec, ...] = (
    (
        ActionSpec(
            "open",
            "File",
            "&Open…",
            ("Ctrl+O",),
            "Open a project or any importable motion file",
            toolbar=True,
            icon="SP_DialogOpenButton",
        ),
        ActionSpec("save", "File", "&Save", ("Ctrl+S",), "Save the project", toolbar=True, icon="SP_DialogSaveButton"),
        ActionSpec("save_as", "File", "Save &As…", ("Ctrl+Shift+S",), "Save the project under a new name"),
        ActionSpec(
            "import_annotations",
            "File",
            "&Import annotations (ELAN)…",
            ("Ctrl+Shift+I",),
            "Bring an ELAN file's glosses onto this motion: segments per hand and keys",
            separator=True,
        ),
        ActionSpec(
            "export_bvh", "File/Export", "BVH…", (), "Export motion to BVH (Blender, MotionBuilder)", separator=True
        ),
        ActionSpec("export_fbx", "File/Export", "FBX…", (), "Export to FBX 7.4 (Maya, Unity, Unreal, Blender)"),
        ActionSpec("export_npz", "File/Export", "SMPL-X parameters (.npz)…", (), "Export SMPL-X parameters"),
        ActionSpec("export_joints", "File/Export", "Joint positions (.joints.npz)…", (), "World joint positions"),
        ActionSpec("export_eaf", "File/Export", "ELAN segments (.eaf)…", (), "Sign segments and glosses for ELAN"),
        ActionSpec("quit", "File", "&Quit", ("Ctrl+Q",), "Close Signframe", separator=True),
        ActionSpec("undo", "Edit", "&Undo", ("Ctrl+Z",), "Undo the last edit", toolbar=True, icon="SP_ArrowBack"),
        ActionSpec("redo", "Edit", "&Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Redo", toolbar=True, icon="SP_ArrowForward"),
        ActionSpec("select_all", "Edit", "Select all keys", ("A", "Ctrl+A"), "Select every key", separator=True),
        ActionSpec("select_none", "Edit", "Deselect", ("Alt+A",), "Clear the key and range selection"),
        ActionSpec(
            "select_sign",
            "Edit",
            "Select sign at playhead",
            ("L",),
            "Select the three keys of the sign under the playhead",
        ),
        ActionSpec(
            "insert_key",
            "Key",
            "&Insert key",
            ("I",),
            "Pin the frame under the playhead as a key",
            toolbar=True,
            icon="SP_FileDialogNewFolder",
        ),
        ActionSpec(
            "delete_keys",
            "Key",
            "&Delete keys",
            ("X", "Delete"),
            "Delete the selected keys",
            toolbar=True,
            icon="SP_TrashIcon",
        ),
        ActionSpec(
            "grab", "Key", "&Grab (move in time)", ("G",), "Move the selected keys with the mouse", separator=True
        ),
        ActionSpec(
            "scale", "Key", "&Scale around playhead", ("S",), "Stretch the selected keys' timing around the playhead"
        ),
        ActionSpec(
            "nudge_left", "Key", "Nudge keys earlier", ("Alt+Left",), "Move the selected keys one frame earlier"
        ),
        ActionSpec("nudge_right", "Key", "Nudge keys later", ("Alt+Right",), "Move the selected keys one frame later"),
        ActionSpec("copy_keys", "Key", "&Copy keys", ("Ctrl+C",), "Copy the selected keys (poses and spacing)"),
        ActionSpec("paste_keys", "Key", "&Paste keys", ("Ctrl+V",), "Paste the copied keys at the playhead"),
        ActionSpec(
            "regenerate",
            "Key",
            "&Regenerate range from keys",
            ("R",),
            "Selected frame range becomes GENERATED: the in-betweener fills it from the keys",
            separator=True,
        ),
        ActionSpec(
            "keep_source",
            "Key",
            "&Keep recording in range (warp)",
            ("Shift+R",),
            "Selected frame range shows the recording again, re-timed and corrected by the keys",
        ),
        ActionSpec(
            "insert_frames",
            "Key",
            "Insert &frames at playhead…",
            ("Ctrl+I",),
            "Insert new frames before the playhead: the in-betweener fills them from the frames around",
            separator=True,
        ),
        ActionSpec(
            "delete_frames",
            "Key",
            "Delete frame &range",
            ("Ctrl+Delete",),
            "Remove the selected frame range with its keys; the cut is bridged by the in-betweener",
        ),
        ActionSpec(
            "accept_fast",
            "Key",
            "Accept &FAST proposals",
            ("Ctrl+F",),
            "Replace labels and keys in the selected range (or everywhere) by FAST's proposals",
            separator=True,
        ),
        ActionSpec(
            "accept_all_proposals",
            "Key",
            "Accept all proposed signs",
            ("Ctrl+Shift+F",),
            "Accept every sign FAST proposes (the dashed ones in the sign lane), with their keys",
        ),
        ActionSpec(
            "edit_gloss", "Key", "Edit &gloss", ("F2",), "Type the gloss of the sign under the playhead", separator=True
        ),
        ActionSpec("split_sign", "Key", "Split sign at playhead", ("Ctrl+K",), "Cut the sign in two at the playhead"),
        ActionSpec("merge_sign", "Key", "Merge sign with next", ("Ctrl+J",), "Join the sign with the next one"),
        ActionSpec(
            "boundary_keys",
            "Key",
            "Sign edges move their keys",
            (),
            "Dragging a sign's edge also moves the key on it (Shift while dragging does this once)",
            checkable=True,
        ),
        ActionSpec("view_front", "View", "&Front", ("1",), "Camera: front", toolbar=True),
        ActionSpec("view_side", "View", "&Side", ("3",), "Camera: side", toolbar=True),
        ActionSpec("view_hands", "View", "&Hands", ("H",), "Camera: frame both hands", toolbar=True),
        ActionSpec(
            "toggle_skeleton",
            "View",
            "S&keleton overlay",
            ("K",),
            "Show bones and joint markers",
            checkable=True,
            checked=True,
            separator=True,
        ),
        ActionSpec(
            "toggle_onion",
            "View",
            "&Onion skin",
            ("O",),
            "Ghosts of the previous and next key",
            checkable=True,
            toolbar=True,
        ),
        ActionSpec("toggle_mesh", "View", "Avatar &mesh", ("M",), "Show the avatar", checkable=True, checked=True),
        ActionSpec(
            "zoom_all", "View", "Timeline: show all", ("F",), "Fit the whole sequence in the timeline", separator=True
        ),
        ActionSpec("reset_layout", "View", "Reset window layout", (), "Put docks and toolbars back"),
        ActionSpec(
            "play",
            "Playback",
            "&Play / pause",
            ("Space",),
            "Play at the sequence's frame rate",
            toolbar=True,
            icon="SP_MediaPlay",
        ),
        ActionSpec("step_back", "Playback", "Previous frame", ("Left",), "One frame back"),
        ActionSpec("step_forward", "Playback", "Next frame", ("Right",), "One frame on"),
        ActionSpec("next_key", "Playback", "Next key", ("Up",), "Jump to the next key"),
        ActionSpec("prev_key", "Playback", "Previous key", ("Down",), "Jump to the previous key"),
        ActionSpec("first_frame", "Playback", "First frame", ("Home", "Shift+Left"), "Start (of the range)"),
        ActionSpec("last_frame", "Playback", "Last frame", ("End", "Shift+Right"), "End (of the range)"),
        ActionSpec(
            "loop",
            "Playback",
            "&Loop",
            ("Ctrl+L",),
            "Loop the sequence or the selected range",
            checkable=True,
            checked=True,
            separator=True,
        ),
    )
    + tuple(
        ActionSpec(
            f"speed_{s:g}",
            "Playback/Speed",
            f"{s:g}×",
            (),
            f"Play at {s:g}× speed",
            checkable=True,
            checked=(s == 1.0),
            group="speed",
        )
        for s in SPEEDS
    )
    + (
        ActionSpec(
            "reroll",
            "In-between",
            "&Reroll",
            ("Ctrl+R",),
            "Draw a new noise seed for the generated frames",
            toolbar=True,
            icon="SP_BrowserReload",
        ),
        ActionSpec(
            "model_settings",
            "In-between",
            "Model locations…",
            (),
            "Official checkpoint and SMPL-X folder",
            separator=True,
        ),
        ActionSpec("help", "Help", "&Keyboard shortcuts", ("F1",), "Every shortcut", icon="SP_DialogHelpButton"),
        ActionSpec("about", "Help", "&About Signframe", (), ""),
    )
)


def build_actions(
    window: QMainWindow, handler: Callable[[str], Callable]
) -> tuple[dict[str, QAction], dict[str, QMenu], QToolBar]:
    """Create every action, the menus and the toolbar; ``handler(name)`` returns the slot."""
    actions: dict[str, QAction] = {}
    menus: dict[str, QMenu] = {}
    groups: dict[str, QActionGroup] = {}
    bar = window.menuBar()
    for top in MENUS:
        menus[top] = bar.addMenu("&" + top)
    toolbar = QToolBar("Main", window)
    toolbar.setObjectName("main-toolbar")
    toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    window.addToolBar(toolbar)
    for spec in ACTIONS:
        a = QAction(spec.text, window)
        a.setObjectName(spec.name)
        if spec.icon:
            a.setIcon(window.style().standardIcon(getattr(QStyle.StandardPixmap, spec.icon)))
        if spec.shortcuts:
            a.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        keys = ", ".join(spec.shortcuts)
        a.setToolTip(f"{spec.tip} ({keys})" if keys and spec.tip else spec.tip or spec.text.replace("&", ""))
        a.setStatusTip(spec.tip)
        if spec.checkable:
            a.setCheckable(True)
            a.setChecked(spec.checked)
        if spec.group:
            g = groups.setdefault(spec.group, QActionGroup(window))
            g.setExclusive(True)
            g.addAction(a)
        slot = handler(spec.name)
        if slot is not None:
            (a.toggled if spec.checkable and not spec.group else a.triggered).connect(slot)
        window.addAction(a)  # shortcuts work wherever the focus is in the window
        menu = _menu(menus, spec.menu)
        if spec.separator:
            menu.addSeparator()
        menu.addAction(a)
        if spec.toolbar:
            toolbar.addAction(a)
        actions[spec.name] = a
    return actions, menus, toolbar


def _menu(menus: dict[str, QMenu], path: str) -> QMenu:
    if path in menus:
        return menus[path]
    parent, _, name = path.rpartition("/")
    m = _menu(menus, parent).addMenu(name)
    menus[path] = m
    return m


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(menu, action, shortcuts) for the help dialog."""
    return [
        (s.menu.replace("/", " › "), s.text.replace("&", "").rstrip("…"), ", ".join(s.shortcuts))
        for s in ACTIONS
        if s.shortcuts
    ]
