"""Pluggable in-betweeners and the registry the editor's model menu is built from.

An in-betweener fills what has no reliable record in one dirty span -- GENERATED frames, and
joints marked invalid (``Sequence.valid``) at recorded frames (docs/representation.md)::

    fill_patch(seq, span, cancel, seed) -> FramePatch

``span`` is a dirty range [lo, hi) that the in-betweener grows to its enclosing keys
(``core.model.spans.enclosing_span``); the patch covers the grown span, KEY and SOURCE frames in
it unchanged. ``cancel()`` returns True once a newer request is waiting:
check it between solver steps and raise ``Cancelled`` (any exception raised while ``cancel()``
is True counts as a cancellation; the solver raises the same ``core.errors.Cancelled``).

Models are registered by name with a factory ``factory(device, **options) -> Inbetweener`` that
runs in the worker thread (that is where torch gets imported). ``slerp`` and ``eased`` are
built in. ``bundled`` and ``official`` point at ``core.ml.kf2p.inbetween`` (``create_bundled`` /
``create_official``); they report themselves unavailable, with the reason, while that module or
the weights are missing; a model module may also call ``register`` with its own ``ModelSpec``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..errors import Cancelled  # the one cancel error (core.errors), re-exported by core.jobs
from ..kinematics.slerp import inbetween_baseline, smoothstep
from ..model.patches import FramePatch
from ..model.sequence import Sequence
from ..model.spans import enclosing_span

CancelFn = Callable[[], bool]
ASSETS_MODELS = Path(__file__).resolve().parents[2] / "assets" / "models"
KF2P_MODULE = "core.ml.kf2p.inbetween"
BUNDLED_KF2P = ASSETS_MODELS / "kf2p"


@runtime_checkable
class Inbetweener(Protocol):
    """What the service runs: one method. ``fill_patch`` returns the frames of ``span`` grown to
    its enclosing keys (``core.model.spans``), regenerated where nothing reliable was recorded;
    it raises ``Cancelled`` when ``cancel()`` turns True."""

    device: str

    def fill_patch(self, seq: Sequence, span: tuple[int, int], cancel: CancelFn, seed: int) -> FramePatch: ...


class SlerpInbetweener:
    """Per-joint quaternion SLERP (``eased``: smoothstep timing inside each gap); numpy only."""

    device = "cpu"

    def __init__(self, eased: bool = False) -> None:
        self.ease = smoothstep if eased else None

    def fill_patch(self, seq: Sequence, span: tuple[int, int], cancel: CancelFn, seed: int) -> FramePatch:
        if cancel():
            raise Cancelled()
        out = inbetween_baseline(seq, self.ease, span)
        lo, hi = enclosing_span(seq.key_frames, span[0], span[1], seq.n_frames)
        return FramePatch(lo, out.rotations[lo:hi].copy(), out.translation[lo:hi].copy())


@dataclass(frozen=True)
class ModelSpec:
    """A selectable in-betweener.

    factory: ``factory(device, **options) -> Inbetweener`` or "module:function" imported lazily.
    available: ``available(options) -> None`` when usable, else a one-line reason (shown as the
        disabled menu entry's tooltip). Must be cheap and must not import torch.
    uses_torch: the worker sets torch's thread count and picks CUDA when available.
    """

    name: str
    label: str
    factory: Callable[..., Inbetweener] | str
    available: Callable[[Mapping[str, Any]], str | None] = field(default=lambda options: None)
    uses_torch: bool = False
    description: str = ""

    def make(self, device: str, **options: Any) -> Inbetweener:
        fn = self.factory
        if isinstance(fn, str):
            module, _, attr = fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
        return fn(device, **options)


def _module_missing(module: str) -> str | None:
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    return None if found else f"{module} is not installed in this build"


def _bundled_available(options: Mapping[str, Any]) -> str | None:
    missing = _module_missing(KF2P_MODULE)
    if missing:
        return missing
    if not any(BUNDLED_KF2P.glob("*.pt")):
        return f"no bundled KF2P weights in {BUNDLED_KF2P}"
    return None


def _official_available(options: Mapping[str, Any]) -> str | None:
    missing = _module_missing(KF2P_MODULE)
    if missing:
        return missing
    ckpt = options.get("checkpoint")
    if not ckpt:
        return "no official checkpoint chosen (Settings: official KF2P checkpoint)"
    if not all(Path(p.strip()).exists() for p in str(ckpt).split(",") if p.strip()):
        return f"{ckpt}: no such checkpoint"
    return None


MODELS: dict[str, ModelSpec] = {}


def register(spec: ModelSpec) -> None:
    """Add or replace a model (a model module registers itself under its name)."""
    MODELS[spec.name] = spec


def model_spec(name: str) -> ModelSpec:
    try:
        return MODELS[name]
    except KeyError:
        raise KeyError(f"unknown in-betweening model {name!r} (known: {', '.join(MODELS)})") from None


def available_models(options: Mapping[str, Any] | None = None) -> list[tuple[ModelSpec, str | None]]:
    """Every registered model with None (usable) or the reason it is not."""
    options = options or {}
    out = []
    for spec in MODELS.values():
        try:
            reason = spec.available(options)
        except Exception as e:  # an availability probe must never break the menu
            reason = f"{type(e).__name__}: {e}"
        out.append((spec, reason))
    return out


def create(name: str, device: str = "cpu", **options: Any) -> Inbetweener:
    return model_spec(name).make(device, **options)


register(
    ModelSpec(
        "bundled",
        "Bundled KF2P (refiner over eased SLERP)",
        f"{KF2P_MODULE}:create_bundled",
        _bundled_available,
        uses_torch=True,
        description="the small SignSparK flow model shipped in assets/models",
    )
)
register(
    ModelSpec(
        "official",
        "Official SignSparK checkpoint",
        f"{KF2P_MODULE}:create_official",
        _official_available,
        uses_torch=True,
        description="the released 835M-parameter KF2P (needs a GPU to be interactive)",
    )
)
register(
    ModelSpec(
        "eased",
        "Eased SLERP",
        lambda device, **o: SlerpInbetweener(eased=True),
        description="per-joint SLERP with ease-in / ease-out inside each gap",
    )
)
register(
    ModelSpec(
        "slerp",
        "SLERP",
        lambda device, **o: SlerpInbetweener(eased=False),
        description="per-joint quaternion SLERP between observed frames",
    )
)
