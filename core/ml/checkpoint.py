"""Checkpoint loading: the official SignSparK KF2P releases, and our own files.

Both are read with ``torch.load(weights_only=True)``: never unpickle arbitrary objects. Every
problem with a file is raised as ``CheckpointError`` with a one-line message naming the file.

Official (``ema_0.9999_<iter>.pt``, SPEC section 7): a plain ``OrderedDict`` name -> tensor.
The ``unet.*``, ``embed_timestep.*`` and ``embed_text.*`` keys load into ``KF2PNet`` under the
same names; the 393 ``text_enc_model.*`` tensors (M-CLIP) are returned aside for
``core.ml.text.MClipTextEncoder``. Stream (hand / body / face) and size preset are detected from
the tensor shapes.

Ours: ``{"format": "signframe-kf2p", "version": 1, "config": json, "meta": json,
"state_dict": {name: tensor}}``.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..errors import LoadError
from .unet import KF2PNet, UNetConfig

__all__ = [
    "CheckpointError",
    "OfficialCheckpoint",
    "OursCheckpoint",
    "STREAM_CHANNELS",
    "load_official",
    "save_ours",
    "load_ours",
]

STREAM_CHANNELS: dict[str, int] = {"hand": 90, "body": 60, "face": 56}
_STREAM_BY_J = {j: s for s, j in STREAM_CHANNELS.items()}
TEXT_PREFIX = "text_enc_model."
OURS_FORMAT = "signframe-kf2p"
OURS_VERSION = 1
_OFFICIAL_PRESETS = ("official-large", "official-tiny")


class CheckpointError(LoadError):
    """A checkpoint file cannot be used; the message names the file and the problem."""


@dataclass(frozen=True)
class OfficialCheckpoint:
    """An official checkpoint loaded into ``model`` (eval mode, on ``map_location``)."""

    path: Path
    model: KF2PNet
    config: UNetConfig
    stream: str  # "hand" | "body" | "face"
    preset: str  # "official-large" | "official-tiny"
    text_encoder_state: dict[str, Tensor] = field(repr=False)  # "text_enc_model." stripped


@dataclass(frozen=True)
class OursCheckpoint:
    path: Path
    model: KF2PNet
    config: UNetConfig
    meta: dict[str, Any]


def read_torch(
    path: str | os.PathLike[str], map_location: Any = "cpu", error: type[LoadError] = CheckpointError
) -> Any:
    """The one reader of a ``.pt`` file: ``torch.load(weights_only=True)`` (never unpickles
    objects); a missing or unreadable file raises ``error`` (a LoadError) with one line."""
    path = Path(path)
    if not path.is_file():
        raise error(f"{path}: no such file")
    try:
        # torch warns (two lines on stderr) about raw pickle protocols before failing: the
        # one-line error below says it all
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return torch.load(path, weights_only=True, map_location=map_location)
    except Exception as e:  # noqa: BLE001 - truncated files raise anything from struct to zipfile
        if "Weights only load failed" in str(e):
            raise error(
                f"{path}: not a readable PyTorch checkpoint (it holds pickled Python objects, "
                "which Signframe never loads: only tensors and plain values)"
            ) from e
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise error(f"{path}: not a readable PyTorch checkpoint ({first[:200]})") from e


def check_envelope(
    obj: Any,
    path: str | os.PathLike[str],
    fmt: str,
    version: int,
    what: str,
    error: type[LoadError] = CheckpointError,
    hint: str = "",
    version_what: str = "",
) -> Mapping[str, Any]:
    """``obj`` as one of our checkpoint envelopes (``{"format", "version", "config", "meta",
    "state_dict"}``, config and meta as JSON strings) once its format and version are ``fmt`` /
    ``version``; otherwise ``error``: "not a {what} checkpoint{hint}" / "unsupported
    {version_what}checkpoint version"."""
    if not isinstance(obj, Mapping) or obj.get("format") != fmt:
        raise error(f"{path}: not a {what} checkpoint{hint}")
    if obj.get("version") != version:
        raise error(f"{path}: unsupported {version_what}checkpoint version {obj.get('version')!r}")
    return obj


def read_envelope(
    path: str | os.PathLike[str],
    fmt: str,
    version: int,
    what: str,
    error: type[LoadError] = CheckpointError,
    map_location: Any = "cpu",
    version_what: str = "",
) -> Mapping[str, Any]:
    """``read_torch`` + ``check_envelope``: the one reader of our checkpoint envelopes."""
    return check_envelope(
        read_torch(path, map_location, error), path, fmt, version, what, error, version_what=version_what
    )


def _tensor_dict(obj: Any, path: Path) -> dict[str, Tensor]:
    if not isinstance(obj, Mapping) or not obj:
        raise CheckpointError(f"{path}: not a state dict (got {type(obj).__name__})")
    bad = [k for k, v in obj.items() if not isinstance(k, str) or not isinstance(v, Tensor)]
    if bad:
        raise CheckpointError(f"{path}: not a state dict (entry {bad[0]!r} is not a named tensor)")
    return dict(obj)


def _expected_shapes(cfg: UNetConfig) -> dict[str, tuple[int, ...]]:
    with torch.device("meta"):
        model = KF2PNet(cfg, zero_init=False)
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _check_shapes(sd: Mapping[str, Tensor], cfg: UNetConfig, path: Path, what: str) -> None:
    """Same key set and shapes as a ``KF2PNet(cfg)``; raise CheckpointError on the first problem."""
    expected = _expected_shapes(cfg)
    missing = [k for k in expected if k not in sd]
    if missing:
        more = f" (+{len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CheckpointError(f"{path}: missing key {missing[0]!r}{more} for a {what} model")
    extra = [k for k in sd if k not in expected]
    if extra:
        more = f" (+{len(extra) - 1} more)" if len(extra) > 1 else ""
        raise CheckpointError(f"{path}: unexpected key {extra[0]!r}{more} for a {what} model")
    for k, shape in expected.items():
        if tuple(sd[k].shape) != shape:
            raise CheckpointError(f"{path}: wrong shape for {k!r}: {tuple(sd[k].shape)}, expected {shape} ({what})")


def _build(cfg: UNetConfig, sd: Mapping[str, Tensor], map_location: Any) -> KF2PNet:
    """Allocate without running the default init (835M parameters at full size), then copy.

    ``load_state_dict`` copies, which also materialises the fixtures' strided pool views."""
    with torch.device("meta"):
        model = KF2PNet(cfg, zero_init=False)
    device = torch.device(map_location) if isinstance(map_location, (str, torch.device)) else "cpu"
    model = model.to_empty(device=device)
    model.load_state_dict({k: v.float() for k, v in sd.items()}, strict=True)
    return model.eval()


def load_official(path: str | os.PathLike[str], map_location: Any = "cpu") -> OfficialCheckpoint:
    """Load an official SignSparK KF2P checkpoint (any stream, released or tiny size)."""
    path = Path(path)
    sd = _tensor_dict(read_torch(path, map_location), path)
    # DataParallel/DDP wrappers add "module."; the released files have none, accept both.
    if all(k.startswith("module.") for k in sd):
        sd = {k[len("module.") :]: v for k, v in sd.items()}

    for key in ("unet.final_conv.1.weight", "embed_text.weight"):
        if key not in sd:
            raise CheckpointError(f"{path}: missing key {key!r} (not a SignSparK KF2P checkpoint?)")
    j = int(sd["unet.final_conv.1.weight"].shape[0])
    stream = _STREAM_BY_J.get(j)
    if stream is None:
        raise CheckpointError(f"{path}: {j} output channels; expected hand 90, body 60 or face 56")
    latent = int(sd["embed_text.weight"].shape[0])
    preset = next((p for p in _OFFICIAL_PRESETS if UNetConfig.preset(p, j).latent_dim == latent), None)
    if preset is None:
        raise CheckpointError(
            f"{path}: unknown model size (conditioning width {latent}; expected 512 for the released models)"
        )
    cfg = UNetConfig.preset(preset, j)

    text_state = {k[len(TEXT_PREFIX) :]: v for k, v in sd.items() if k.startswith(TEXT_PREFIX)}
    net_sd = {k: v for k, v in sd.items() if not k.startswith(TEXT_PREFIX)}
    _check_shapes(net_sd, cfg, path, f"{preset} {stream}")
    model = _build(cfg, net_sd, map_location)
    return OfficialCheckpoint(
        path=path, model=model, config=cfg, stream=stream, preset=preset, text_encoder_state=text_state
    )


def save_ours(
    path: str | os.PathLike[str], model: nn.Module, config: UNetConfig, meta: Mapping[str, Any] | None = None
) -> Path:
    """Write our checkpoint: tensors + config/meta as JSON strings (loadable weights_only).

    ``meta`` must be JSON-serialisable (data, command, seed, metrics...). Written atomically."""
    path = Path(path)
    try:
        meta_json = json.dumps(dict(meta or {}), sort_keys=True)
    except TypeError as e:
        raise ValueError(f"save_ours: meta is not JSON-serialisable: {e}") from e
    payload = {
        "format": OURS_FORMAT,
        "version": OURS_VERSION,
        "config": json.dumps(config.to_dict(), sort_keys=True),
        "meta": meta_json,
        "state_dict": {k: v.detach().cpu().contiguous().clone() for k, v in model.state_dict().items()},
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def load_ours(path: str | os.PathLike[str], map_location: Any = "cpu") -> OursCheckpoint:
    """Load a checkpoint written by ``save_ours``."""
    path = Path(path)
    raw = read_torch(path, map_location)
    hint = (
        " (an official SignSparK checkpoint? use load_official)"
        if isinstance(raw, Mapping) and "unet.final_conv.1.weight" in raw
        else ""
    )
    obj = check_envelope(raw, path, OURS_FORMAT, OURS_VERSION, "Signframe KF2P", CheckpointError, hint)
    try:
        cfg = UNetConfig.from_dict(json.loads(obj["config"]))
        meta = json.loads(obj.get("meta", "{}"))
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{path}: bad config/meta ({e})") from e
    sd = _tensor_dict(obj.get("state_dict"), path)
    _check_shapes(sd, cfg, path, "Signframe")
    model = _build(cfg, sd, map_location)
    return OursCheckpoint(path=path, model=model, config=cfg, meta=meta)
