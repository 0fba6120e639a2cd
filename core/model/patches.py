"""The in-betweening contract's result type: a patch of regenerated frames.

Here in ``core.model`` (not in ``core.jobs`` or ``core.ml``) so that the service that carries it
and the models that make it both import it from below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sequence import Sequence


@dataclass(frozen=True, eq=False)
class FramePatch:
    """In-betweening output for frames ``start .. start + n - 1``.

    rotations: (n, J, 3, 3) float32; translation: (n, 3) float32. Only the GENERATED frames of
    the receiving sequence are overwritten (``Sequence.with_generated``).
    """

    start: int
    rotations: np.ndarray
    translation: np.ndarray

    @property
    def stop(self) -> int:
        return self.start + int(self.rotations.shape[0])

    def apply(self, seq: Sequence) -> Sequence:
        return seq.with_generated(self.start, self.rotations, self.translation)
