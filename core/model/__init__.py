"""The representation: skeleton, rotations, sequences and their edits (numpy only)."""

from .sequence import (
    FrameState,
    Keyframe,
    KeyKind,
    Label,
    Segment,
    Sequence,
    SequenceError,
    keyframes_from_segments,
    labels_from_segments,
    new_sequence,
    segments_from_labels,
)
from .skeleton import JOINT_INDEX, JOINT_NAMES, N_JOINTS, PARENTS, Skeleton
from .template import TEMPLATE

__all__ = [
    "FrameState",
    "Keyframe",
    "KeyKind",
    "Label",
    "Segment",
    "Sequence",
    "SequenceError",
    "keyframes_from_segments",
    "labels_from_segments",
    "new_sequence",
    "segments_from_labels",
    "JOINT_INDEX",
    "JOINT_NAMES",
    "N_JOINTS",
    "PARENTS",
    "Skeleton",
    "TEMPLATE",
]
