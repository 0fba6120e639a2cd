"""In-betweening of a document with KF2P: fill the GENERATED frames of a ``Sequence``.

(Over 500 lines on purpose: the samplers -- refiner, official absolute model -- and the window /
context / batching path they share are the one in-betweening code path the editor, the service,
the benchmarks and the evaluation all run; its loader maps every checkpoint kind onto it.)

One code path for every model: the eased-SLERP baseline fills every joint and the root
translation; then each modelled stream (``body`` = our joints 12..21, ``hand`` = both hands
through one right-hand model, the left one flipped F R F) is sampled by the flow solver over
windows of frames and written back at the stream's unobserved frames. Joints no stream models
(spine, legs) keep the baseline. ``slerp`` / ``eased`` are the same path with no streams.

- Windows are aligned on observed frames: every gap between two consecutive frames where the
  whole stream is observed (keys always are) is sampled in its own window, the gap plus
  ``context`` frames on each side (context frames hold the baseline: never earlier model output).
  Windows are padded to their own length (a multiple of 8) and batched by length, so a gap's
  result depends only on its neighbourhood, never on the sequence length or on which windows
  share a batch. Regenerating the dirty span between unchanged keys therefore gives exactly the
  frames a whole-sequence fill gives, and ``fill_patch`` touches only the span's frames: an
  edit's cost does not grow with the sequence. (Gaps outside the dirty span whose context saw the
  edit are not redone: that is the "plus context" trade-off of docs/architecture.md.)
- Deterministic: the noise of frame f is drawn from ``(seed, stream, f // 64)``, so it does not
  depend on where a window starts; a new seed only on request (``reroll``).
- Keys (and SOURCE frames) are hit exactly: the solver writes them back (``hit_keys``), and the
  output is only written at unobserved frames.

Models: ``StreamSampler`` implementations -- ``RefinerSampler`` (our bundled refiner over the
eased baseline) and ``AbsoluteSampler`` (official SignSparK checkpoints, or ours in the official
layout: absolute 6D). ``load_inbetweener`` turns ``slerp | eased | bundled | PATH`` into one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from torch import Tensor

from ...errors import LoadError
from ...kinematics.slerp import lerp_fill, slerp_fill, smoothstep
from ...model.patches import FramePatch
from ...model.rotations import FLIP_SIGNS
from ...model.sequence import FrameState, Sequence
from ...model.skeleton import LEFT_HAND, RIGHT_HAND, SIGNSPARK_BODY_JOINTS
from ...model.spans import enclosing_span, trim_keys
from .. import solver
from ..denormals import flushing_denormals
from ..refiner import joint_channels

__all__ = [
    "ROOT",
    "BUNDLED_DIR",
    "FramePatch",
    "StreamSampler",
    "RefinerSampler",
    "AbsoluteSampler",
    "KF2PInbetweener",
    "ModelLoadError",
    "load_inbetweener",
    "create_bundled",
    "create_official",
    "frame_noise",
    "generated_spans",
]

ROOT = Path(__file__).resolve().parents[3]
BUNDLED_DIR = ROOT / "assets" / "models" / "kf2p"
BODY = tuple(SIGNSPARK_BODY_JOINTS)
LEFT = tuple(range(LEFT_HAND.start, LEFT_HAND.stop))
RIGHT = tuple(range(RIGHT_HAND.start, RIGHT_HAND.stop))
_STREAM_TAG = {"body": 0, "left": 1, "right": 2}
NOISE_BLOCK = 64
CancelFn = Callable[[], bool]


class ModelLoadError(LoadError):
    """A model name or path that cannot be turned into an in-betweener (one line)."""


def frame_noise(seed: int, tag: int, frames: np.ndarray, channels: int) -> np.ndarray:
    """N(0, 1) noise (len(frames), channels) float32 that depends only on (seed, tag, frame)."""
    frames = np.asarray(frames, dtype=np.int64)
    out = np.empty((frames.size, channels), np.float32)
    blocks = frames // NOISE_BLOCK
    for b in np.unique(blocks):
        z = np.random.default_rng([int(seed) & 0xFFFFFFFF, tag, int(b) & 0xFFFFFFFF, channels]).standard_normal(
            (NOISE_BLOCK, channels), dtype=np.float32
        )
        sel = blocks == b
        out[sel] = z[frames[sel] - b * NOISE_BLOCK]
    return out


# ---------------------------------------------------------------------------------------------
# Stream samplers


@dataclass
class Windows:
    """A batch of windows of one stream, all padded to T frames.

    base: (B, T, n, 3, 3) eased-baseline rotations (observed frames exact), stream convention
    (left hands flipped); obs: (B, T, n) bool; y_mask: (B, 1, T) bool (False on padding);
    noise: (B, T, C) float32 N(0, 1) per absolute frame (C = the sampler's channels)."""

    base: Tensor
    obs: Tensor
    y_mask: Tensor
    noise_frames: np.ndarray  # (B, T) absolute frame of each row (clamped on padding)
    noise_tags: np.ndarray  # (B,) stream tag of each row


class StreamSampler(Protocol):
    stream: str  # "body" | "hand"
    max_window: int
    multiple: int
    channels: int
    label: str

    def sample(self, w: Windows, noise: Tensor, steps: int, cancel: CancelFn | None, text_emb: Tensor | None) -> Tensor:
        """-> (B, T, n, 3, 3) rotations (stream convention)."""
        ...


class RefinerSampler:
    """Our refiner (``core.ml.refiner``): corrections of the eased baseline (retiming along each
    joint's key-to-key path, then residuals), x0 = variation * noise; gaps its checkpoint's
    ``fallback_by_gap`` hands to a classical method get that method instead."""

    multiple = 8

    def __init__(
        self,
        model,
        strength: float | None = None,
        variation: float = 0.0,
        method: str = "euler",
        max_window: int = 128,
        text_encoder=None,
        geometry: float | None = None,
    ) -> None:
        from ..refiner import HashedTextEncoder

        self.model = model
        self.spec = model.spec
        self.stream = model.spec.stream
        self.channels = model.spec.channels
        # None: the checkpoint's strength (per gap length when it has a table); ``geometry``
        # (timing models: the off-path residual's) follows ``strength`` unless given
        self.strength = None if strength is None else float(strength)
        self.geometry = None if geometry is None else float(geometry)
        self.variation = float(variation)
        self.method = method
        self.max_window = int(max_window)
        self.multiple = model.cfg.time_multiple
        self.text_encoder = text_encoder or HashedTextEncoder()
        self.label = f"refiner-{self.stream}"

    def sample(self, w: Windows, noise: Tensor, steps: int, cancel: CancelFn | None, text_emb: Tensor | None) -> Tensor:
        from ..baselines import fallback_sampler
        from ..refiner import FALLBACKS, bracket_torch, in_record

        off = self.strength == 0.0 and (not self.spec.timing or self.geometry in (None, 0.0))
        if off or steps <= 0:
            return w.base
        gap = bracket_torch(w.obs)[3]  # (B, T, n) frames between the bracketing observations
        # The calibrated tables decide, per frame and joint, between the network and a classical
        # method (``RefinerSpec.fallback_by_gap``); a strength override runs the network everywhere.
        tables = self.strength is None and self.geometry is None
        fb = self.spec.fallback_at(gap) if tables else torch.zeros(gap.shape, dtype=torch.long, device=gap.device)
        if self.spec.record_fallback and tables:
            fb = torch.where(in_record(w.obs), FALLBACKS.index(self.spec.record_fallback), fb)
        need = (fb == 0) & ~w.obs  # the network runs only if some frame needs it
        out = self._network(w, noise, steps, cancel, text_emb, gap) if need.any() else w.base
        for i, name in enumerate(FALLBACKS):
            sel = (fb == i) & ~w.obs
            if i == 0 or not sel.any():
                continue
            alt = (
                w.base
                if name == "eased"
                else fallback_sampler(name, self.stream).sample(w, noise, steps, cancel, text_emb)
            )
            out = torch.where(sel[..., None, None], alt.to(out.dtype), out)
        return out

    def _network(
        self, w: Windows, noise: Tensor, steps: int, cancel: CancelFn | None, text_emb: Tensor | None, gap: Tensor
    ) -> Tensor:
        from ..refiner import refined, refiner_condition, state_mask

        cond = refiner_condition(w.base, w.obs)
        mask = state_mask(self.spec, w.obs)
        x_embed = torch.zeros_like(mask, dtype=w.base.dtype)
        x0 = noise.transpose(1, 2) * self.variation
        model = self.model

        def velocity(x: Tensor, t: Tensor) -> Tensor:
            return model(x, t, x_embed, mask, w.y_mask, cond, text_emb)

        x = solver.sample(velocity, x0, mask, x_embed, steps, self.method, hit_keys=True, cancel=cancel)
        gap = gap.to(x.dtype)
        k = self.spec.strength_at(gap) if self.strength is None else self.strength
        kg = (
            self.geometry
            if self.geometry is not None
            else (self.strength if self.strength is not None else self.spec.geometry_at(gap))
        )
        return refined(w.base, w.obs, x, self.spec, k, kg)


class AbsoluteSampler:
    """A network over absolute 6D poses in the official layout (official SignSparK checkpoints,
    or ours saved with ``checkpoint.save_ours``): keys written into N(0, 1) noise."""

    multiple = 8

    def __init__(
        self,
        model,
        stream: str,
        method: str = "euler",
        max_window: int = 304,
        label: str = "official",
        text_encoder=None,
    ) -> None:
        self.model = model
        self.stream = stream
        self.channels = model.cfg.channels
        self.method = method
        self.max_window = int(max_window)
        self.multiple = model.cfg.time_multiple
        self.text_encoder = text_encoder  # None: the null text (the release trained with text dropout)
        self.label = f"{label}-{stream}"

    def sample(self, w: Windows, noise: Tensor, steps: int, cancel: CancelFn | None, text_emb: Tensor | None) -> Tensor:
        b, t, n = w.obs.shape
        x_embed = w.base[..., :2, :].reshape(b, t, n * 6).transpose(1, 2).contiguous()
        mask = joint_channels(w.obs, 6)
        velocity = solver.model_velocity(self.model, x_embed, mask, w.y_mask, text_emb)
        x = solver.sample(
            velocity, noise.transpose(1, 2), mask, x_embed, max(1, steps), self.method, hit_keys=True, cancel=cancel
        )
        return _sixd_to_matrix(x.transpose(1, 2).reshape(b, t, n, 6))


def _sixd_to_matrix(d6: Tensor) -> Tensor:
    """(..., 6) first two rows -> (..., 3, 3) by Gram-Schmidt (official decoding)."""
    a1, a2 = d6[..., :3], d6[..., 3:]
    b1 = a1 / a1.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    a2 = a2 - (b1 * a2).sum(-1, keepdim=True) * b1
    b2 = a2 / a2.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return torch.stack([b1, b2, torch.cross(b1, b2, dim=-1)], dim=-2)


# ---------------------------------------------------------------------------------------------
# The in-betweener


def generated_spans(seq: Sequence) -> list[tuple[int, int]]:
    """Maximal runs [lo, hi) of GENERATED frames (keys excluded)."""
    gen = seq.states == FrameState.GENERATED
    if not gen.any():
        return []
    d = np.diff(np.concatenate([[0], gen.astype(np.int8), [0]]))
    return list(zip(np.nonzero(d == 1)[0].tolist(), np.nonzero(d == -1)[0].tolist()))


def _local_observed(seq: Sequence, a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
    """Observation masks of frames [a, b) without touching the rest of the sequence:
    (b-a, J) per joint (KEY, or SOURCE where valid) and (b-a,) per frame (not GENERATED)."""
    base = seq.base_states[a:b]
    is_key = np.zeros(b - a, bool)
    kf = seq.key_frames
    kf = kf[(kf >= a) & (kf < b)]
    is_key[kf - a] = True
    src = base == FrameState.SOURCE
    per_joint = is_key[:, None] | (src[:, None] & seq.valid[a:b])
    return per_joint, is_key | src


def _gaps(aligned: np.ndarray, lo: int, hi: int) -> list[tuple[int, int]]:
    """[lo, hi) cut at the ``aligned`` frames (ascending, absolute) into gaps [c0, c1) that start
    and end on aligned frames (inclusive), plus the open ends before the first / after the last.
    Runs of consecutive aligned frames give no gap."""
    pts = aligned[(aligned >= lo) & (aligned < hi)]
    if pts.size == 0:
        return [(lo, hi)]
    out = []
    if pts[0] > lo:
        out.append((lo, int(pts[0]) + 1))
    jumps = np.nonzero(np.diff(pts) > 1)[0]
    out += [(int(pts[i]), int(pts[i + 1]) + 1) for i in jumps]
    if pts[-1] < hi - 1:
        out.append((int(pts[-1]), hi))
    return out


@dataclass
class KF2PInbetweener:
    """Fills GENERATED frames: eased (or plain) SLERP for everything, then the stream models.

    streams: samplers by stream name ("body", "hand"); empty = the baseline alone.
    eased: the baseline's timing (smoothstep inside each gap) -- False gives plain SLERP.
    steps: solver steps; context: real frames on each side of a window; batch: windows per
    network call; device: "cpu" | "cuda". ``fill`` implements ``core.jobs.Inbetweener``.
    """

    streams: dict[str, StreamSampler] = field(default_factory=dict)
    eased: bool = True
    steps: int = 2
    context: int = 16
    batch: int = 16
    device: str = "cpu"
    name: str = "eased"

    # --- public API ----------------------------------------------------------------------------
    def fill(self, seq: Sequence, span: tuple[int, int], cancel: CancelFn | None = None, seed: int = 0) -> Sequence:
        """``core.jobs.Inbetweener``: the grown ``span`` filled, the rest of ``seq`` unchanged."""
        return self.fill_patch(seq, span, cancel, seed).apply(seq)

    def fill_patch(
        self, seq: Sequence, span: tuple[int, int], cancel: CancelFn | None = None, seed: int = 0
    ) -> FramePatch:
        """Frames of ``span`` grown to its enclosing keys, as a patch (KEY / SOURCE frames in
        it keep their values). Costs the same at any sequence length."""
        # the contract's rules (core.model.spans): keys at the ends trimmed, then grown to the
        # enclosing keys, as ``core.jobs.merge_spans`` does
        lo, hi = max(0, int(span[0])), min(seq.n_frames, int(span[1]))
        lo, hi = trim_keys(seq.key_frames, lo, hi)
        if lo >= hi:  # nothing but keys: nothing to regenerate
            a = max(0, min(int(span[0]), seq.n_frames))
            return FramePatch(a, seq.rotations[a:a].copy(), seq.translation[a:a].copy())
        lo, hi = enclosing_span(seq.key_frames, lo, hi, seq.n_frames)
        return self._fill_many([(seq, [(lo, hi)])], cancel, seed)[0][0]

    def fill_all(self, seq: Sequence, cancel: CancelFn | None = None, seed: int = 0) -> Sequence:
        """Every GENERATED frame of ``seq`` (windows of all spans batched together)."""
        return self.fill_all_many([seq], cancel, seed)[0]

    def fill_all_many(self, seqs: list[Sequence], cancel: CancelFn | None = None, seed: int = 0) -> list[Sequence]:
        """``fill_all`` of several sequences, their windows batched together (evaluation)."""
        items = []
        for seq in seqs:
            grown: list[tuple[int, int]] = []
            for lo, hi in generated_spans(seq):
                g = enclosing_span(seq.key_frames, lo, hi, seq.n_frames)
                if grown and g[0] < grown[-1][1]:
                    grown[-1] = (grown[-1][0], max(grown[-1][1], g[1]))
                else:
                    grown.append(g)
            items.append((seq, grown))
        out = []
        for (seq, _), patches in zip(items, self._fill_many(items, cancel, seed)):
            for p in patches:
                seq = p.apply(seq)
            out.append(seq)
        return out

    def reroll(self, seed: int) -> int:
        """A new document seed (the "reroll" action): any value but ``seed``."""
        return int(np.random.default_rng(seed + 1).integers(1, 2**31 - 1))

    # --- internals -----------------------------------------------------------------------------
    def _fill_many(
        self, items: list[tuple[Sequence, list[tuple[int, int]]]], cancel: CancelFn | None, seed: int
    ) -> list[list[FramePatch]]:
        """Patches for the frame ranges of each sequence; one job per range."""
        ease = smoothstep if self.eased else None
        ctx = self.context if self.streams else 0
        # baseline over each range plus context (and a margin so context frames are bracketed)
        margin = 2 * ctx
        jobs = []
        for si, (seq, ranges) in enumerate(items):
            t = seq.n_frames
            for lo, hi in ranges:
                a, b = max(0, lo - ctx - margin), min(t, hi + ctx + margin)
                obs_j, obs_f = _local_observed(seq, a, b)
                base = slerp_fill(seq.rotations[a:b], obs_j, ease)
                tr = lerp_fill(seq.translation[a:b], obs_f, ease)
                # models read the baseline (context included) and write into a copy
                jobs.append((lo, hi, a, b, base, base.copy() if self.streams else base, tr, obs_j, si))
        seqs = [seq for seq, _ in items]
        if self.streams:
            if cancel is not None and cancel():
                raise solver.Cancelled()
            with flushing_denormals():  # set in the thread that runs the models
                for sampler in self.streams.values():
                    self._run_stream(seqs, sampler, jobs, cancel, seed)
        out: list[list[FramePatch]] = [[] for _ in items]
        for lo, hi, a, _, _, rot, tr, _, si in jobs:
            out[si].append(
                FramePatch(lo, rot[lo - a : hi - a].astype(np.float32), tr[lo - a : hi - a].astype(np.float32))
            )
        return out

    def _run_stream(self, seqs: list[Sequence], sampler: StreamSampler, jobs, cancel, seed) -> None:
        sides = [("body", BODY)] if sampler.stream == "body" else [("left", LEFT), ("right", RIGHT)]
        ctx = self.context
        rows = []  # (job index, side tag, joints, window start, window stop, core c0, c1)
        for ji, (lo, hi, a, b, _, _, _, obs_j, _) in enumerate(jobs):
            for side, joints in sides:
                obs = obs_j[:, joints]
                if not obs.any() or obs.all():
                    continue
                aligned = np.nonzero(obs.all(axis=1))[0] + a
                for c0, c1 in _gaps(aligned, lo, hi):
                    if obs[c0 - a : c1 - a].all():
                        continue
                    w0, w1 = max(a, c0 - ctx), min(b, c1 + ctx)
                    rows.append((ji, side, joints, w0, w1, c0, c1))
        if not rows:
            return
        # Every window is padded to its own length rounded up to the network's multiple (the
        # result must not depend on which windows share a batch): batch equal lengths only.
        pad = lambda r: -(-(r[4] - r[3]) // sampler.multiple) * sampler.multiple  # noqa: E731
        rows.sort(key=pad)
        batches = []
        for r in rows:
            if batches and pad(batches[-1][0]) == pad(r) and len(batches[-1]) < max(1, self.batch):
                batches[-1].append(r)
            else:
                batches.append([r])
        flip = torch.tensor(FLIP_SIGNS, dtype=torch.float32)
        for part in batches:
            length = pad(part[0])
            n = len(part[0][2])
            base = np.empty((len(part), length, n, 3, 3), np.float32)
            obs = np.zeros((len(part), length, n), bool)
            ymask = np.zeros((len(part), 1, length), bool)
            frames = np.empty((len(part), length), np.int64)
            tags = np.empty(len(part), np.int64)
            for i, (ji, side, joints, w0, w1, _, _) in enumerate(part):
                _, _, a, _, rot, _, _, obs_j, _ = jobs[ji]
                m = w1 - w0
                base[i, :m] = rot[w0 - a : w1 - a][:, joints]
                base[i, m:] = base[i, m - 1]
                obs[i, :m] = obs_j[w0 - a : w1 - a][:, joints]
                ymask[i, 0, :m] = True
                frames[i] = np.minimum(np.arange(w0, w0 + length), w1 - 1)
                tags[i] = _STREAM_TAG[side]
            base_t = torch.from_numpy(base)
            left = torch.tensor([_STREAM_TAG[r[1]] == 1 for r in part])
            if left.any():
                base_t[left] = base_t[left] * flip
            noise = torch.from_numpy(
                np.stack([frame_noise(seed, int(tags[i]), frames[i], sampler.channels) for i in range(len(part))])
            )
            w = Windows(
                base_t.to(self.device),
                torch.from_numpy(obs).to(self.device),
                torch.from_numpy(ymask).to(self.device),
                frames,
                tags,
            )
            txt = None  # the null text unless the sampler has an encoder and a sequence has text
            enc = getattr(sampler, "text_encoder", None)
            row_seqs = [seqs[jobs[r[0]][8]] for r in part]
            if enc is not None and any(q.text or q.language for q in row_seqs):
                txt = enc([q.text for q in row_seqs], [q.language or None for q in row_seqs]).to(self.device)
            with torch.no_grad():
                out = sampler.sample(w, noise.to(self.device), self.steps, cancel, txt).float().cpu()
            if left.any():
                out[left] = out[left] * flip
            out_np = out.numpy()
            for i, (ji, _side, joints, w0, _w1, c0, c1) in enumerate(part):
                _, _, a, _, _, rot, _, obs_j, _ = jobs[ji]
                core = slice(c0 - a, c1 - a)
                pred = out_np[i, c0 - w0 : c1 - w0]  # (c1-c0, n, 3, 3)
                o = obs_j[core][:, joints]
                tgt = rot[core]  # view into the job's rotations
                sub = tgt[:, joints]
                sub[~o] = pred[~o]
                tgt[:, joints] = sub


# ---------------------------------------------------------------------------------------------
# Building in-betweeners from names and paths


def _torch_device(device: str) -> str:
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelLoadError(f"--device {device}: CUDA is not available on this machine")
    return device


def _sampler_from_file(path: Path, device: str, options: dict[str, Any]) -> StreamSampler:
    """One checkpoint file -> a sampler (refiner, official, or ours in the official layout)."""
    from ..checkpoint import CheckpointError, load_official, load_ours
    from ..refiner import FORMAT as REFINER_FORMAT
    from ..refiner import RefinerCheckpointError, load_refiner
    from ..text import TextEncoderError

    obj_format = _peek_format(path)
    method = options.get("method", "euler")
    try:
        if obj_format == REFINER_FORMAT:
            r = load_refiner(path, device)
            return RefinerSampler(
                r.model,
                strength=options.get("strength"),
                variation=float(options.get("variation", 0.0)),
                method=method,
                max_window=int(options.get("max_window", 128)),
                geometry=options.get("geometry"),
            )
        if obj_format == "signframe-kf2p":
            o = load_ours(path, device)
            stream = {90: "hand", 60: "body"}.get(o.config.channels)
            if stream is None:
                raise ModelLoadError(f"{path}: a {o.config.channels}-channel model (hand 90 or body 60 expected)")
            return AbsoluteSampler(o.model, stream, method, label="ours")
        ck = load_official(path, device)
        if ck.stream == "face":
            raise ModelLoadError(f"{path}: a face-stream checkpoint; Signframe in-betweens body and hands")
        enc = None
        if options.get("tokenizer"):
            from ..text import MClipTextEncoder

            enc = MClipTextEncoder.from_checkpoint(ck, options["tokenizer"], device)
        return AbsoluteSampler(ck.model, ck.stream, method, label="official", text_encoder=enc)
    except (CheckpointError, RefinerCheckpointError, TextEncoderError) as e:
        raise ModelLoadError(str(e)) from None


def _peek_format(path: Path) -> str | None:
    from ..checkpoint import read_torch

    obj = read_torch(path, "cpu", ModelLoadError)
    if isinstance(obj, dict) and isinstance(obj.get("format"), str):
        return obj["format"]
    return None


def _model_files(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(
            p for p in path.iterdir() if p.suffix == ".pt" and p.is_file() and not p.name.startswith("train_state")
        )
        if not files:
            raise ModelLoadError(f"{path}: no .pt checkpoints in this folder")
        return files
    if not path.exists():
        raise ModelLoadError(f"{path}: no such file or folder")
    return [path]


_NO_MCLIP = "tokenizer: model {} is not an official checkpoint (only those carry M-CLIP text weights)"


def load_inbetweener(
    model: str | Path | Iterable[str | Path] = "bundled",
    *,
    device: str = "cpu",
    steps: int | None = None,
    **options: Any,
) -> KF2PInbetweener:
    """``slerp`` | ``eased`` | ``bundled`` | a checkpoint file | a folder of checkpoints | several
    paths (comma-separated or a list: one body and one hand checkpoint, official or ours).

    options: ``strength``, ``geometry``, ``variation`` (refiner), ``method`` ("euler" | "heun"), ``context``,
    ``max_window``, ``tokenizer`` (official checkpoints: a local XLM-R tokenizer folder; the
    sequence's text and language then condition the network through the checkpoint's M-CLIP).
    Streams without a checkpoint fall back to the eased baseline."""
    if isinstance(model, (str, Path)):
        name = str(model)
        if name in ("slerp", "eased"):
            if options.get("tokenizer"):
                raise ModelLoadError(_NO_MCLIP.format(name))
            return KF2PInbetweener({}, eased=name == "eased", name=name)
        paths = [BUNDLED_DIR] if name == "bundled" else [Path(p.strip()) for p in name.split(",") if p.strip()]
    else:
        paths, name = [Path(p) for p in model], ",".join(str(p) for p in model)
    device = _torch_device(device)
    files = [f for p in paths for f in _model_files(p)]
    streams: dict[str, StreamSampler] = {}
    meta_steps = None
    for f in files:
        s = _sampler_from_file(f, device, options)
        if s.stream in streams:
            raise ModelLoadError(f"{f}: a second {s.stream} checkpoint (one per stream)")
        streams[s.stream] = s
        if isinstance(s, RefinerSampler):
            meta_steps = getattr(s.spec, "steps", None) or meta_steps
    if options.get("tokenizer") and not any(
        getattr(s, "text_encoder", None) is not None for s in streams.values() if isinstance(s, AbsoluteSampler)
    ):
        raise ModelLoadError(_NO_MCLIP.format(name))
    # Refiners start from the mean (x0 = 0): 2 Euler steps matched 16 within 0.5 % MPJPE on the
    # test languages (python -m core eval kf2p ... --steps-sweep 1,2,4,8,16); official: 10.
    default_steps = 2 if all(isinstance(s, RefinerSampler) for s in streams.values()) else 10
    return KF2PInbetweener(
        streams,
        eased=True,
        steps=int(steps or default_steps),
        context=int(options.get("context", 16)),
        device=device,
        name="bundled" if name == "bundled" else name,
    )


def create_bundled(device: str = "cpu", **options: Any) -> KF2PInbetweener:
    """``core.jobs`` factory for the bundled refiner."""
    return load_inbetweener("bundled", device=device, **options)


def create_official(device: str = "cpu", checkpoint: str | None = None, **options: Any) -> KF2PInbetweener:
    """``core.jobs`` factory for official checkpoints (``checkpoint``: file(s), comma-separated,
    or a folder)."""
    if not checkpoint:
        raise ModelLoadError("no official checkpoint chosen")
    return load_inbetweener(str(checkpoint), device=device, **options)
