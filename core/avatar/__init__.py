"""The default avatar: a procedurally built, skinned low-poly signer (numpy only).

``build_avatar(skeleton)`` gives an :class:`Avatar` (rest vertices, faces, 4-influence skin
weights over our 52 joints) and ``Avatar.skin(world_rotations, world_positions)`` poses it by
linear blend skinning. The editor draws it; the FBX writer exports it with ``mesh=True``.
"""

from __future__ import annotations

from functools import lru_cache

from ..model.skeleton import Skeleton
from ..model.template import TEMPLATE
from .body import MATERIALS, build_body
from .mesh import Avatar

__all__ = ["Avatar", "MATERIALS", "build_avatar"]


@lru_cache(maxsize=8)
def _cached(skeleton: Skeleton) -> Avatar:  # Skeleton hashes by identity (eq=False)
    return build_body(skeleton)


def build_avatar(skeleton: Skeleton = TEMPLATE) -> Avatar:
    """The default signer sized to ``skeleton`` (cached per skeleton object)."""
    return _cached(skeleton)
