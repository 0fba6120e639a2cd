"""Undo commands for the linguist's edits of segments and glosses (``core.model.segments_edit``)
and for bringing ELAN annotations onto the motion. One command = one undo step; a boundary drag
merges its steps into one."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

from core.model import segments_edit as se
from core.model.edits import Change
from core.model.sequence import Segment, Sequence

from .commands import EditCommand
from .document import Document

LANE_NAMES = {"": "sign", "right": "right hand", "left": "left hand"}


class RenameGloss(EditCommand):
    ID = 1601

    def __init__(self, doc: Document, hand: str, start: int, gloss: str | None) -> None:
        super().__init__(doc, f"Gloss {gloss or '(none)'}")
        self.hand, self.start, self.gloss = hand, int(start), gloss

    def edit(self) -> Callable[[Sequence], Change]:
        hand, start, gloss = self.hand, self.start, self.gloss
        return lambda seq: se.rename(seq, hand, start, gloss)


class SplitSegment(EditCommand):
    ID = 1602

    def __init__(self, doc: Document, hand: str, frame: int) -> None:
        super().__init__(doc, f"Split {LANE_NAMES[hand]} at {frame}")
        self.hand, self.frame = hand, int(frame)

    def edit(self) -> Callable[[Sequence], Change]:
        hand, frame = self.hand, self.frame
        return lambda seq: se.split(seq, hand, frame)


class MergeSegments(EditCommand):
    ID = 1603

    def __init__(self, doc: Document, hand: str, start: int) -> None:
        super().__init__(doc, f"Merge {LANE_NAMES[hand]} at {start} with the next")
        self.hand, self.start = hand, int(start)

    def edit(self) -> Callable[[Sequence], Change]:
        hand, start = self.hand, self.start
        return lambda seq: se.merge(seq, hand, start)


class MoveBoundary(EditCommand):
    """A segment boundary dragged (keys stay unless ``move_key``); a drag's steps merge."""

    ID = 1604

    def __init__(
        self,
        doc: Document,
        hand: str,
        start: int,
        side: str,
        frame: int,
        move_key: bool = False,
        drag_id: int | None = None,
        origin: int | None = None,
    ) -> None:
        super().__init__(doc, f"Move {LANE_NAMES[hand]} {side}", drag_id)
        self.hand, self.start, self.side, self.frame, self.move_key = hand, int(start), side, int(frame), move_key
        self.origin = origin  # where the boundary was before the drag: back there is no step

    def edit(self) -> Callable[[Sequence], Change]:
        hand, start, side, frame, move_key = self.hand, self.start, self.side, self.frame, self.move_key
        return lambda seq: se.move_boundary(seq, hand, start, side, frame, move_key)

    def merge_key(self) -> Hashable:
        return (self.hand, self.start, self.side, self.move_key)

    def is_noop(self) -> bool:
        return self.origin is not None and self.frame == self.origin


class AcceptSegments(EditCommand):
    """Accept proposed signs (FAST's) into the sign lane, with keys by the policy."""

    ID = 1605

    def __init__(self, doc: Document, segments: Iterable[Segment], text: str) -> None:
        super().__init__(doc, text)
        self.segments = tuple(segments)

    def edit(self) -> Callable[[Sequence], Change]:
        segs = self.segments
        return lambda seq: se.accept_segments(seq, segs)


class ImportAnnotations(EditCommand):
    """ELAN's gloss tiers onto the motion; the file is read once (``core.io.eaf.prepare_import``),
    so undo / redo never depend on it again."""

    ID = 1606

    def __init__(self, doc: Document, imported, name: str) -> None:
        super().__init__(doc, f"Import annotations from {name}")
        self.imported = imported
        self.report: se.ImportReport | None = None

    def edit(self) -> Callable[[Sequence], Change]:
        from core.io import eaf

        def run(seq: Sequence) -> Change:
            change, self.report = eaf.apply_import(seq, self.imported)
            return change

        return run
