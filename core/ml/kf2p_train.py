"""``python -m core train kf2p``: train the bundled KF2P refiner (``core.ml.refiner``).

    python -m core train kf2p --data data/corpus.npz --out assets/models/kf2p --stream both \\
        --minutes 15 --seed 0 --threads 2
    torchrun --nproc_per_node 4 -m core train kf2p --data ... --device cuda   (several GPUs)

Data (``--data``): the corpus built by ``python -m core data build`` (its ``train`` split; ``val``
chooses the strength), a folder of sequence files (any readable format; the language is the
parent folder's name, and whole languages are held out for validation and test), or a clip cache
written by ``--cache``.

Each training sample is a window of a real clip with keys placed the way documents have them:
key spacing 3-24 frames weighted towards 8-16, first key at a random phase, gaps drawn
independently (70 %), or a SOURCE document with one or two regenerated spans (30 %). Augmentation:
mirroring (body: left/right swapped and reflected; hands: either hand, the left one flipped into
the right-hand model), speed 0.8-1.25x, a per-joint pose offset and per-frame jitter.

Losses: the paper's flow + reconstruction + velocity + acceleration terms on the residual (the
official weights, ``core.ml.flow.flow_losses``), plus joint positions and joint velocities through
differentiable forward kinematics of the one-step estimate x1_hat, weighted to the wrists (body)
and the fingertips (hands). Noise: x0 = 0 for half the samples (the deterministic default) and
x0 = s N(0, 1), s ~ U(0.2, 1) for the rest (``variation``).

After training, the strength is chosen per key spacing on the validation split through the
editor's in-betweening path (``calibrate``: lowest MPJPE among the strengths not worse than
SLERP on MPJPE and 2 % better on DTW-JPE / DTW-PA-JPE) and stored in the checkpoint;
``--calibrate-only`` redoes just that. The training state for ``--resume`` lives in
``--state-dir`` (runs/kf2p), outside the model folder.

Several GPUs: under ``torchrun`` (WORLD_SIZE > 1) each rank draws its own samples (a rank-offset
seed, the random-window equivalent of a DistributedSampler), gradients are averaged by DDP
(``find_unused_parameters=True``: the official ``q_ca`` weights get no gradient) and rank 0
writes checkpoints.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "assets" / "models" / "kf2p"
DEFAULT_DATA = ROOT / "data" / "corpus.npz"
SPACINGS = np.arange(3, 25)
# key spacing 3-24, weighted towards 8-16
SPACING_P = np.where((SPACINGS >= 8) & (SPACINGS <= 16), 3.0, 1.0)
SPACING_P = SPACING_P / SPACING_P.sum()
MIRROR_PAIRS = ((13, 14), (16, 17), (18, 19), (20, 21))  # collars, shoulders, elbows, wrists
MIRROR_M = np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]])  # M R M, M = diag(-1,1,1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default=str(DEFAULT_DATA),
                   help="corpus .npz, a folder of sequence files, or a clip cache (default data/corpus.npz)")
    p.add_argument("--out", default=str(DEFAULT_OUT), help="output folder (body.pt, hand.pt, train_log.json)")
    p.add_argument("--stream", choices=("body", "hand", "both"), default="both")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock budget per stream")
    p.add_argument("--iters", type=int, default=4000, help="optimizer steps per stream (upper bound)")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--window", type=int, default=64, help="training window, frames (multiple of 8)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--ema", type=float, default=0.998, help="EMA decay of the weights that are saved")
    p.add_argument("--preset", default="small", help="UNet preset (core.ml.unet.PRESETS)")
    p.add_argument("--kind", choices=("timing", "residual"), default="timing",
                   help="timing: retime each joint along its key-to-key path, then correct off it "
                        "(default); residual: rotation corrections of the eased baseline only")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1: two spin against each other on a busy 2-core machine)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--resume", action="store_true", help="continue from STATE_DIR/train_state_<stream>.pt")
    p.add_argument("--state-dir", default=str(ROOT / "runs" / "kf2p"),
                   help="resumable training state (optimizer, EMA; default runs/kf2p, kept out of assets/)")
    p.add_argument("--save-every", type=int, default=500, help="steps between resumable checkpoints")
    p.add_argument("--val-batches", type=int, default=6, help="validation batches per key spacing")
    p.add_argument("--cache", help="also write the loaded clips to this .npz (fast reloads)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--half", action="store_true", help="store the final weights as float16")
    p.add_argument("--calibrate-only", action="store_true",
                   help="do not train: choose the strength table of the checkpoints in OUT on the validation split")
    p.add_argument("--no-calibrate", action="store_true", help="skip the strength calibration after training")
    p.add_argument("--calibrate-spacings", default=",".join(map(str, CALIBRATION_SPACINGS)),
                   help="key spacings the strength table is chosen at (default 4..16 by 2)")


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Clips:
    """Real motion clips. rotations[i]: (T, 52, 3, 3) float32; valid[i]: (T, 52) bool."""

    rotations: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rotations)

    def subset(self, idx) -> "Clips":
        return Clips([self.rotations[i] for i in idx], [self.valid[i] for i in idx],
                     [self.language[i] for i in idx], [self.text[i] for i in idx])

    @property
    def n_frames(self) -> int:
        return int(sum(len(r) for r in self.rotations))

    def save(self, path: str | Path) -> None:
        from ..io.atomic import atomic_path

        lengths = np.array([len(r) for r in self.rotations])
        with atomic_path(Path(path)) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(f, format=np.array("signframe-kf2p-clips"), lengths=lengths,
                                    rotations=np.concatenate(self.rotations), valid=np.concatenate(self.valid),
                                    languages=np.array(self.language), texts=np.array(self.text))


def _from_cache(path: Path) -> Clips:
    with np.load(path, allow_pickle=False) as d:
        off = np.concatenate([[0], np.cumsum(d["lengths"])])
        rot, val = d["rotations"].astype(np.float32), d["valid"].astype(bool)
        langs = [str(x) for x in d["languages"]]
        texts = [str(x) for x in d["texts"]] if "texts" in d else [""] * len(langs)
    return Clips([rot[a:b] for a, b in zip(off[:-1], off[1:])], [val[a:b] for a, b in zip(off[:-1], off[1:])],
                 langs, texts)


def _is_clip_cache(path: Path) -> bool:
    if path.suffix != ".npz" or not path.is_file():
        return False
    with np.load(path, allow_pickle=False) as d:
        return "format" in d and str(d["format"]) == "signframe-kf2p-clips" or \
            {"rotations", "valid", "lengths", "languages"} <= set(d.files)


def is_corpus(path: Path) -> bool:
    """A corpus from ``python -m core data build`` (decided by the corpus module when present)."""
    if path.is_dir() or path.suffix != ".npz" or _is_clip_cache(path):
        return False
    try:
        from ..data import corpus as corpus_mod
    except ImportError:
        return False
    check = getattr(corpus_mod, "is_corpus", None)
    if check is not None:
        return bool(check(path))
    return "corpus" in path.name.lower()


def _seq_clip(seq) -> tuple[np.ndarray, np.ndarray]:
    """A corpus / file sequence -> (rotations, valid) with GENERATED frames marked invalid (they
    are not real motion: a corpus chain's synthetic transitions must not be learnt)."""
    from ..model.sequence import FrameState

    valid = np.array(seq.valid, bool)
    real = seq.meta.get("real_frames") if hasattr(seq, "meta") else None
    gen = np.asarray(seq.base_states) == FrameState.GENERATED
    if real is not None:
        gen |= ~np.asarray(real, bool)
    valid &= ~gen[:, None]
    return np.array(seq.rotations, np.float32), valid


def _split_runs(rot: np.ndarray, valid: np.ndarray, min_len: int = 6) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cut a sequence at frames where nothing is valid (e.g. a chain's synthetic transitions)."""
    any_valid = valid.any(axis=1)
    d = np.diff(np.concatenate([[0], any_valid.astype(np.int8), [0]]))
    return [(rot[a:b], valid[a:b]) for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0])
            if b - a >= min_len]


def load_clips(data: str | Path, split: str = "train") -> Clips:
    """``split`` of ``data`` (see the module docstring). Languages held out of folders and clip
    caches: ``split_languages``."""
    from ..cli import UserError

    path = Path(data)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    clips = Clips()
    if path.is_dir() or _is_clip_cache(path):
        if path.is_dir():
            from ..io import registry
            from .fast_data import sequence_files

            for f in sequence_files(path):
                try:
                    seq = registry.read(f)
                except Exception as e:  # noqa: BLE001 - a damaged file is skipped, not fatal
                    print(f"skipping {f}: {e}", file=sys.stderr)
                    continue
                r, v = _seq_clip(seq)
                clips.rotations.append(r)
                clips.valid.append(v)
                clips.language.append(seq.language or f.parent.name)
                clips.text.append(seq.text or "")
        else:
            clips = _from_cache(path)
        want = split_languages(sorted(set(clips.language)))[split]
        return clips.subset([i for i, lang in enumerate(clips.language) if lang in want])
    if not is_corpus(path):
        raise UserError(f"{path}: neither a corpus, a clip cache nor a folder of sequences")
    from ..data.corpus import load_corpus

    corpus = load_corpus(path)
    # The real clips only: the corpus chains are these clips joined by synthesised transitions,
    # whose shapes a model must not learn as signing (their real frames are the clips again).
    chosen = corpus.clips if split == "all" else corpus.clips_in(split)
    for c in chosen:
        clips.rotations.append(c.rotations())
        clips.valid.append(np.array(c.valid, bool))
        clips.language.append(c.language)
        clips.text.append(c.letter)
    return clips


def split_languages(languages: list[str]) -> dict[str, set[str]]:
    """Deterministic by-language split for data without one: every 6th language (in sorted
    order, from the 3rd) to test, every 6th (from the 6th) to validation, the rest to train."""
    test = {l for i, l in enumerate(languages) if i % 6 == 2}
    val = {l for i, l in enumerate(languages) if i % 6 == 5}
    return {"train": set(languages) - test - val, "val": val, "test": test,
            "all": set(languages)}


# ---------------------------------------------------------------------------------------------
# Samples


def _resample(rot: np.ndarray, valid: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Play ``rot`` (T, J, 3, 3) ``factor`` times faster: nlerp of quaternions between frames."""
    from ..model.rotations import matrix_to_quat, quat_to_matrix

    t = rot.shape[0]
    times = np.arange(0, t - 1 + 1e-9, factor)
    if len(times) < 2 or abs(factor - 1) < 1e-3:
        return rot, valid
    i0 = np.floor(times).astype(int)
    i1 = np.minimum(i0 + 1, t - 1)
    u = (times - i0)[:, None, None]
    q = matrix_to_quat(rot)
    q0, q1 = q[i0], q[i1]
    q1 = np.where(np.sum(q0 * q1, -1, keepdims=True) < 0, -q1, q1)
    qq = (1 - u) * q0 + u * q1
    out = quat_to_matrix(qq / np.linalg.norm(qq, axis=-1, keepdims=True)).astype(np.float32)
    return out, valid[i0] & valid[i1]


def _mirror_body(rot: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rot, valid = rot.copy(), valid.copy()
    for a, b in MIRROR_PAIRS:
        rot[:, [a, b]] = rot[:, [b, a]]
        valid[:, [a, b]] = valid[:, [b, a]]
    return (rot * MIRROR_M).astype(np.float32), valid


def _small_rotations(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> np.ndarray:
    from ..model.rotations import axis_angle_to_matrix

    return axis_angle_to_matrix(rng.normal(0.0, sigma, shape + (3,))).astype(np.float32)


def place_keys(length: int, rng: np.random.Generator, spacing: int | None = None,
               source_doc: bool = False) -> np.ndarray:
    """(length,) bool observed frames of one sample.

    spacing None: gaps drawn from SPACING_P, first key at a random phase. ``source_doc``: every
    frame observed except one or two gaps (a regenerated span in a SOURCE document)."""
    obs = np.zeros(length, bool)
    if source_doc:
        obs[:] = True
        for _ in range(int(rng.integers(1, 3))):
            g = int(rng.choice(SPACINGS, p=SPACING_P)) if spacing is None else spacing
            if g + 1 >= length:
                continue
            a = int(rng.integers(0, length - g))
            obs[a + 1:a + g] = False
        return obs
    first_gap = int(rng.choice(SPACINGS, p=SPACING_P)) if spacing is None else spacing
    f = int(rng.integers(0, max(1, first_gap)))
    while f < length:
        obs[f] = True
        g = int(rng.choice(SPACINGS, p=SPACING_P)) if spacing is None else spacing
        f += g
    return obs


@dataclass
class Batch:
    """One stream's batch (numpy). gt (B, W, n, 3, 3); valid (B, W, n) real target joints;
    obs (B, W, n) observed (keys / SOURCE); y_mask (B, W) frames in the window; texts."""

    gt: np.ndarray
    valid: np.ndarray
    obs: np.ndarray
    y_mask: np.ndarray
    texts: list[str]
    langs: list[str]


class Sampler:
    """Random training windows of one stream from ``clips``."""

    def __init__(self, clips: Clips, stream: str, window: int, seed: int, augment: bool = True) -> None:
        from .refiner import STREAM_JOINTS

        self.clips, self.stream, self.window, self.augment = clips, stream, window, augment
        self.rng = np.random.default_rng(seed)
        self.joints = {"body": [list(STREAM_JOINTS["body"])],
                       "hand": [list(STREAM_JOINTS["left_hand"]), list(STREAM_JOINTS["hand"])]}[stream]
        # a clip (and hand) is usable when the stream's joints are valid on >= 6 frames
        self.items = []
        for c, v in enumerate(clips.valid):
            for side, joints in enumerate(self.joints):
                n_ok = int((v[:, joints].mean(axis=1) >= 0.5).sum())
                if n_ok >= 6:
                    self.items.append((c, side, n_ok))
        if not self.items:
            raise ValueError(f"no clip has >= 6 frames with a valid {stream}")
        w = np.array([n for _, _, n in self.items], float)
        self.p = w / w.sum()

    def sample(self, batch: int, spacing: int | None = None, source_doc: float = 0.3) -> Batch:
        rng, w = self.rng, self.window
        n = len(self.joints[0])
        gt = np.tile(np.eye(3, dtype=np.float32), (batch, w, n, 1, 1))
        valid = np.zeros((batch, w, n), bool)
        obs = np.zeros((batch, w, n), bool)
        ymask = np.zeros((batch, w), bool)
        texts, langs = [], []
        for b in range(batch):
            c, side, _ = self.items[int(rng.choice(len(self.items), p=self.p))]
            rot, val = self.clips.rotations[c], self.clips.valid[c]
            speed = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25)))) if self.augment else 1.0
            span = int(min(len(rot), math.ceil(w * speed) + 1))
            a = int(rng.integers(0, len(rot) - span + 1))
            rot, val = rot[a:a + span], val[a:a + span]
            if self.stream == "body" and self.augment and rng.random() < 0.5:
                rot, val = _mirror_body(rot, val)
            joints = self.joints[side]
            r, v = rot[:, joints], val[:, joints]
            if side == 0 and self.stream == "hand":  # left hand into the right-hand model
                from ..model.rotations import FLIP_SIGNS

                r = (r * FLIP_SIGNS).astype(np.float32)
            if self.augment:
                r, v = _resample(r, v, speed)
                r = _small_rotations(rng, (1, n), 0.1) @ r  # another signer's resting pose
                if rng.random() < 0.3:
                    r = r @ _small_rotations(rng, r.shape[:2], 0.01)  # tracking jitter
            t = min(len(r), w)
            gt[b, :t] = r[:t]
            valid[b, :t] = v[:t]
            ymask[b, :t] = True
            o = place_keys(t, rng, spacing, source_doc=rng.random() < source_doc)
            obs[b, :t] = o[:, None] & v[:t]
            texts.append(self.clips.text[c])
            langs.append(self.clips.language[c])
        return Batch(gt, valid, obs, ymask, texts, langs)


# ---------------------------------------------------------------------------------------------
# Losses


def _norm(d):
    """Euclidean norm over the last axis with a finite gradient at 0."""
    return ((d * d).sum(-1) + 1e-6).sqrt()


class StreamLoss:
    """Flow losses on the state + weighted joint positions / velocities through FK."""

    @classmethod
    def for_spec(cls, spec, device, **kw) -> "StreamLoss":
        return cls(spec.stream, spec.res_scale, device, phase_scale=spec.phase_scale if spec.timing else None, **kw)

    def __init__(self, stream: str, res_scale: float, device, pos_weight: float = 1.0,
                 pos_vel_weight: float = 0.5, flow_weight: float = 0.2, phase_scale: float | None = None) -> None:
        import torch

        from ..kinematics.fk_torch import TorchFK
        from .refiner import RefinerSpec, stream_points

        sp = stream_points(stream)
        sk = sp["skeleton"]
        self.stream = stream
        # the model kind and state scales (``refiner.refined``); phase_scale None: a residual model
        self.spec = RefinerSpec(stream, 10 if stream == "body" else 15, res_scale=res_scale,
                                timing=phase_scale is not None, phase_scale=phase_scale or 0.1)
        self.fk = TorchFK(sk).to(device)
        self.pts = torch.as_tensor(sp["points"], device=device)
        self.is_tip = torch.as_tensor(sp["is_tip"], device=device)
        self.tips = torch.as_tensor(np.array(sk.tips), dtype=torch.float32, device=device)
        w = sp["weights"]
        self.w = torch.as_tensor(w / w.mean(), dtype=torch.float32, device=device)
        self.depends = torch.as_tensor(sp["depends"], device=device)  # (P, n)
        self.n_fixed = sp["n_fixed"]
        self.pos_weight, self.pos_vel_weight, self.flow_weight = pos_weight, pos_vel_weight, flow_weight

    def positions(self, rot):
        """(B, T, n, 3, 3) stream rotations -> (B, T, P, 3) points, centimetres."""
        import torch

        b, t = rot.shape[:2]
        fixed = torch.eye(3, dtype=rot.dtype, device=rot.device).expand(b, t, self.n_fixed, 3, 3)
        full = torch.cat([fixed, rot], dim=2)
        pos, wr = self.fk(full, return_rotations=True)
        tips = pos + (wr @ self.tips.to(rot.dtype)[:, :, None])[..., 0]
        p = torch.where(self.is_tip[:, None], tips[:, :, self.pts], pos[:, :, self.pts])
        return p * 100.0

    def point_weights(self, valid, obs, ymask):
        """(B, T, P) float: a point counts where every rotation moving it is real (valid) and
        bracketed by observations (in-betweening, not extrapolation past the first / last key,
        which only holds a pose), and at least one of them is generated (not observed)."""
        from .refiner import bracket_torch

        dep = self.depends  # (P, n)
        _, _, _, gap = bracket_torch(obs)
        inside = (gap > 0) | obs
        ok = ((valid & inside)[:, :, None, :] | ~dep).all(-1)
        generated = (~obs[:, :, None, :] & dep).any(-1)
        return (ok & generated & ymask[..., None]).float()

    def position_terms(self, rot_hat, rot_gt, pw):
        """Weighted mean Euclidean error (cm) of points and of their frame-to-frame velocities
        (cm / frame); pw (B, T, P). Distances, not squares: tracking jitter in the targets is
        heavy-tailed, and the metrics (MPJPE, DTW-JPE) are means of distances."""
        p_hat, p_gt = self.positions(rot_hat), self.positions(rot_gt)
        w = pw * self.w
        err = _norm(p_hat - p_gt)  # (B, T, P)
        pos = (err * w).sum() / w.sum().clamp_min(1e-6)
        v_hat, v_gt = p_hat[:, 1:] - p_hat[:, :-1], p_gt[:, 1:] - p_gt[:, :-1]
        wv = w[:, 1:] * (pw[:, :-1] > 0)
        vel = (_norm(v_hat - v_gt) * wv).sum() / wv.sum().clamp_min(1e-6)
        return pos, vel

    def point_errors(self, rot_hat, rot_gt, pw):
        """Sum of weighted point errors (cm, not squared) and the weight total."""
        e = (self.positions(rot_hat) - self.positions(rot_gt)).norm(dim=-1)
        return float((e * pw * self.w).sum()), float((pw * self.w).sum())


def tensors(batch: Batch, device, loss_fn: "StreamLoss | None" = None, timing: bool | None = None):
    """Batch -> torch inputs of the refiner: base, obs, cond, y_mask, target residual ``res``
    (radians, 0 where unknown; a timing model's: over the retimed path), its ``phase`` offsets
    (timing models, else None), the state's target mask ``target_ok`` and key mask ``mask``
    (B, C, T), and point weights. ``timing`` defaults to ``loss_fn``'s model kind."""
    import torch

    from .refiner import geodesic_fill, joint_channels, refiner_condition, residual, timing_targets

    if timing is None:
        timing = loss_fn is not None and loss_fn.spec.timing
    gt = torch.from_numpy(batch.gt).to(device)
    obs = torch.from_numpy(batch.obs).to(device)
    valid = torch.from_numpy(batch.valid).to(device)
    ymask = torch.from_numpy(batch.y_mask).to(device)
    base = geodesic_fill(gt, obs, eased=True)
    cond = refiner_condition(base, obs)
    ok = valid & ymask[..., None]
    phase = None
    if timing:
        phase, res = timing_targets(base, obs, gt)
        phase = phase * ok.transpose(1, 2).to(phase.dtype)
    else:
        res = residual(base, gt)
    target_ok = joint_channels(ok, 3)
    res = res * target_ok.to(res.dtype)
    mask = joint_channels(obs, 3)
    if timing:
        target_ok = torch.cat([ok.transpose(1, 2), target_ok], dim=1)
        mask = torch.cat([obs.transpose(1, 2), mask], dim=1)
    d = dict(gt=gt, base=base, obs=obs, cond=cond, ymask=ymask[:, None, :], res=res, phase=phase,
             target_ok=target_ok, mask=mask)
    if loss_fn is not None:
        d["pw"] = loss_fn.point_weights(valid, obs, ymask)
    return d


def target_state(d, loss_fn: StreamLoss):
    """The flow target x1 (B, C, T) of ``tensors`` output: residuals / res_scale, after the
    phase offsets / phase_scale for a timing model."""
    import torch

    x1 = d["res"] / loss_fn.spec.res_scale
    if d["phase"] is not None:
        x1 = torch.cat([d["phase"] / loss_fn.spec.phase_scale, x1], dim=1)
    return x1


def training_step(model, loss_fn: StreamLoss, batch: Batch, gen, text_encoder, device,
                  text_dropout: float = 0.1, det_frac: float = 0.5, t0_frac: float = 0.3):
    """One forward pass; returns (total loss, dict of float terms).

    ``det_frac`` of the samples start from x0 = 0 (the deterministic default at inference), the
    rest from s N(0, 1), s ~ U(0.2, 1); ``t0_frac`` of the deterministic ones are drawn at
    t = 1e-3, where the sampler's first (and most decisive) step is taken."""
    import torch

    from .flow import drop_text, estimate_x1, flow_losses, interpolate, sample_t
    from .refiner import refined

    d = tensors(batch, device, loss_fn)
    b = d["res"].shape[0]
    x1 = target_state(d, loss_fn)
    det = torch.rand(b, generator=gen) < det_frac
    scale = torch.where(det, torch.zeros(b), 0.2 + 0.8 * torch.rand(b, generator=gen))
    x0 = (torch.randn(x1.shape, generator=gen) * scale[:, None, None]).to(device)
    t = sample_t(b, generator=gen)
    t = torch.where(det & (torch.rand(b, generator=gen) < t0_frac), torch.full_like(t, 1e-3), t).to(device)
    kf = d["mask"]
    text = drop_text(text_encoder(batch.texts, batch.langs).to(device), text_dropout, gen)
    x_t = interpolate(x1, x0, t, kf)
    v = model(x_t, t, torch.zeros_like(x1), kf, d["ymask"], d["cond"], text)
    # flow terms over the channels with a real target (a per-channel mask: flow_losses divides
    # by J * count, so scale back by J)
    j = x1.shape[1]
    fl = flow_losses(v, x1, x0, t, d["target_ok"] & d["ymask"], kf)
    fl = {k: val * j for k, val in fl.items()}
    x1_hat = estimate_x1(x_t, v, t)
    rot_hat = refined(d["base"], d["obs"], x1_hat, loss_fn.spec, 1.0)
    pos, pvel = loss_fn.position_terms(rot_hat, d["gt"], d["pw"])
    total = loss_fn.flow_weight * fl["loss"].mean() + loss_fn.pos_weight * pos + loss_fn.pos_vel_weight * pvel
    terms = {k: float(fl[k].mean().detach()) for k in ("flow", "recon", "vel", "acc")}
    terms.update(pos_cm=float(pos.detach()), pos_vel_cm=float(pvel.detach()), loss=float(total.detach()))
    return total, terms


# ---------------------------------------------------------------------------------------------
# Validation: joint-position error vs the baselines, and the strength


def val_batches(clips: Clips, stream: str, window: int, n_batches: int, batch: int, seed: int,
                spacings=(4, 8, 12, 16)) -> dict[int, list[Batch]]:
    out = {}
    for s in spacings:
        sm = Sampler(clips, stream, window, seed + 1000 * s, augment=False)
        out[s] = [sm.sample(batch, spacing=s, source_doc=0.0) for _ in range(n_batches)]
    return out


def evaluate(model, loss_fn: StreamLoss, batches: dict[int, list[Batch]], text_encoder, device,
             strengths=(0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5), steps: int = 4) -> dict[str, Any]:
    """Mean weighted point error (cm) on unobserved frames per spacing: slerp, eased and the
    model at each strength (x0 = 0, Euler, ``steps``)."""
    import torch

    from . import solver
    from .refiner import geodesic_fill, refined

    rows: dict[int, dict[str, float]] = {}
    model.eval()
    with torch.no_grad():
        for s, bl in batches.items():
            acc: dict[str, list[float]] = {}
            wsum = 0.0
            for batch in bl:
                d = tensors(batch, device, loss_fn)
                pw = d["pw"]
                if float(pw.sum()) == 0:
                    continue

                def err(rot):
                    return loss_fn.point_errors(rot, d["gt"], pw)[0]

                slerp = geodesic_fill(d["gt"], d["obs"], eased=False)
                acc.setdefault("slerp", []).append(err(slerp))
                acc.setdefault("eased", []).append(err(d["base"]))
                zeros = torch.zeros_like(d["mask"], dtype=d["base"].dtype)
                text = text_encoder(batch.texts, batch.langs).to(device)

                def vel(x, t):
                    return model(x, t, zeros, d["mask"], d["ymask"], d["cond"], text)

                x = solver.sample(vel, zeros, d["mask"], zeros, steps, "euler", hit_keys=True)
                for k in strengths:
                    acc.setdefault(f"s{k:g}", []).append(err(refined(d["base"], d["obs"], x, loss_fn.spec, k)))
                wsum += float((pw * loss_fn.w).sum())
            rows[s] = {k: sum(v) / max(wsum, 1e-9) for k, v in acc.items()}
    model.train()
    # strength: lowest mean error over spacings, never worse than SLERP at any spacing
    best, best_err = 0.0, float("inf")
    for k in strengths:
        errs = [r[f"s{k:g}"] for r in rows.values()]
        ok = all(r[f"s{k:g}"] <= r["slerp"] for r in rows.values())
        if ok and np.mean(errs) < best_err:
            best, best_err = k, float(np.mean(errs))
    return {"per_spacing_cm": rows, "strength": best}


# ---------------------------------------------------------------------------------------------
# Strength calibration through the document path (the editor's code path)

CALIBRATION_GRID = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 1.0)
CALIBRATION_SPACINGS = (4, 6, 8, 10, 12, 14, 16)
# Calibration rule, on every validation language: never worse than SLERP on MPJPE, at least
# ``margin`` better on the time-warped errors, and within SMOOTH_TOL of it on the smoothness
# errors. Jerk on MediaPipe tracking is mostly the tracker's jitter: at a 1 % tolerance one
# language's +1.9 % jerk switched off a timing correction that halved MPJPE at spacing 14, while
# the corrections the rule must stop add 5-15 % (residual model at full strength; eased SLERP's
# velocity error at spacing 4).
NEVER_WORSE = ("mpjpe",)
SMOOTH = ("velocity_error", "jerk_error")
SMOOTH_TOL = 0.03


def _choose(by_lang: dict[str, dict], grid, spacings, margin: float) -> tuple[list[tuple[int, float]], dict]:
    """Per spacing, the grid value ``g{k}`` with the lowest mean MPJPE ratio to SLERP among those
    that, on *every* validation language, are never worse than SLERP on ``NEVER_WORSE``, within
    ``SMOOTH_TOL`` of it on ``SMOOTH`` and ``margin`` better on DTW-JPE / DTW-PA-JPE (0 if none).
    ``by_lang``: language -> ``kf2p_eval.evaluate`` spacings of one stream."""
    names = ("mpjpe", "dtw_jpe", "dtw_pa_jpe", "velocity_error", "jerk_error")
    table, rows = [], {}
    for sp in spacings:
        langs = [r[str(sp)] for r in by_lang.values() if "mpjpe" in r[str(sp)].get("slerp", {})]
        ok = []
        for k in grid:
            ratios = [{x: row[f"g{k:g}"][x] / row["slerp"][x] for x in names} for row in langs]
            if ratios and all(all(r[x] <= 1.0 for x in NEVER_WORSE) and all(r[x] <= 1 + SMOOTH_TOL for x in SMOOTH)
                              and all(r[x] <= 1 - margin for x in ("dtw_jpe", "dtw_pa_jpe")) for r in ratios):
                ok.append((float(np.mean([r["mpjpe"] for r in ratios])), k))
        best = min(ok)[1] if ok else 0.0
        table.append((int(sp), float(best)))
        rows[str(sp)] = {"value": best, "ratio_vs_slerp": {
            lang: {x: round(r[str(sp)][f"g{best:g}"][x] / r[str(sp)]["slerp"][x], 4) for x in names}
            for lang, r in by_lang.items() if "mpjpe" in r[str(sp)].get("slerp", {})}}
    return table, rows


def calibrate(path: Path, val: Clips, grid=CALIBRATION_GRID, spacings=CALIBRATION_SPACINGS,
              phases: int = 2, margin: float = 0.02) -> dict[str, Any]:
    """Choose the checkpoint's strengths per key spacing on ``val`` and rewrite it.

    For each spacing: the strength with the lowest MPJPE among those that, on every validation
    language separately (a gain that holds for one signer only is not a gain), are never worse
    than SLERP on MPJPE, within ``SMOOTH_TOL`` of it on velocity and jerk error (stronger
    corrections can buy per-frame accuracy with jerk an animator sees), and at least ``margin``
    better on DTW-JPE and DTW-PA-JPE (a safety margin: unseen languages vary most there); 0 (the
    eased baseline) when none qualifies. Measured through the editor's in-betweening path
    (``core.ml.kf2p_eval``, per run, both key phases).
    A timing model is chosen in two stages: the phase strength with no off-path residual, then
    the residual's strength on top of that table. The tables go into
    ``RefinerSpec.strength_by_gap`` / ``geometry_by_gap``; the uniform fallbacks become their
    values at spacing 8."""
    import tempfile
    from dataclasses import replace

    import torch

    from .kf2p_eval import evaluate
    from .kf2p_inbetween import load_inbetweener
    from .refiner import RefinerNet, load_refiner, save_refiner

    loaded = load_refiner(path)
    spec0 = loaded.model.spec
    stream = spec0.stream
    raw = torch.load(path, weights_only=True, map_location="cpu")
    half = any(v.dtype == torch.float16 for v in raw["state_dict"].values())

    def write(spec, meta, dest) -> None:
        model = RefinerNet(loaded.model.cfg, spec, zero_init=False)
        model.load_state_dict(loaded.model.state_dict())
        save_refiner(dest, model, meta, half=half)

    def stage(option: str, model_path, fixed: dict) -> tuple[list[tuple[int, float]], dict]:
        inbs = {"slerp": load_inbetweener("slerp"), "eased": load_inbetweener("eased")}
        for k in grid:
            inbs[f"g{k:g}"] = load_inbetweener(str(model_path), **fixed, **{option: k})
        by_lang = {lang: evaluate(val.subset([i for i, x in enumerate(val.language) if x == lang]), inbs, spacings,
                                  phases, streams=(stream,))[stream]["spacings"] for lang in sorted(set(val.language))}
        return _choose(by_lang, grid, spacings, margin)

    at8 = lambda table: float(dict(table).get(8, table[len(table) // 2][1]))  # noqa: E731
    rule = (f"lowest mean MPJPE ratio to SLERP among strengths that on every validation language have "
            f"MPJPE <= SLERP's, velocity and jerk errors <= {1 + SMOOTH_TOL:g} x SLERP's "
            f"and DTW-JPE, DTW-PA-JPE <= {1 - margin:g} x SLERP's")
    meta = dict(loaded.meta)
    if not spec0.timing:
        table, rows = stage("strength", path, {})
        spec = replace(spec0, strength_by_gap=tuple(table), strength=at8(table))
        meta["calibration"] = {"data": "validation split", "grid": list(grid), "rule": rule,
                               "per_spacing": {k: {"strength": v.pop("value"), **v} for k, v in rows.items()}}
    else:
        table, rows = stage("strength", path, {"geometry": 0.0})
        spec = replace(spec0, strength_by_gap=tuple(table), strength=at8(table))
        with tempfile.TemporaryDirectory() as tmp:
            staged = Path(tmp) / path.name
            write(spec, {}, staged)
            g_table, g_rows = stage("geometry", staged, {})
        spec = replace(spec, geometry_by_gap=tuple(g_table), geometry=at8(g_table))
        meta["calibration"] = {
            "data": "validation split", "grid": list(grid), "rule": rule + " (phase first, then the off-path residual)",
            "per_spacing": {k: {"strength": rows[k]["value"], "geometry": g_rows[k].pop("value"), **g_rows[k]}
                            for k in rows}}
    write(spec, meta, path)
    return meta["calibration"]


# ---------------------------------------------------------------------------------------------
# Training loop


def _dist():
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        backend = "nccl" if os.environ.get("KF2P_BACKEND", "") == "nccl" or \
            (os.environ.get("LOCAL_RANK") is not None and _cuda()) else "gloo"
        dist.init_process_group(backend)
    rank = dist.get_rank() if world > 1 else 0
    return world, rank


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _state_scales(sampler: Sampler, device, timing: bool, n: int = 8) -> tuple[float, float | None]:
    """RMS of the training targets on generated frames: (residual radians, phase offset or None)."""
    from .refiner import default_res_scale

    res, phase = [], []
    for _ in range(n):
        d = tensors(sampler.sample(32, source_doc=0.0), device, timing=timing)
        j = d["res"].shape[1]
        sel = (~d["mask"][:, -j:]) & d["target_ok"][:, -j:]
        res.append(d["res"][sel].cpu().numpy())
        if timing:
            sel = (~d["mask"][:, :-j]) & d["target_ok"][:, :-j]
            phase.append(d["phase"][sel].cpu().numpy())
    return default_res_scale(np.concatenate(res)), (default_res_scale(np.concatenate(phase)) if timing else None)


def train_stream(stream: str, train: Clips, val: Clips, args, log: list) -> dict[str, Any]:
    import torch
    from torch.nn.parallel import DistributedDataParallel as DDP

    from .refiner import HashedTextEncoder, RefinerNet, load_refiner, save_refiner

    world, rank = _dist()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if args.device == "cuda" else args.device)
    out = Path(args.out)
    seed = int(args.seed) + (0 if stream == "body" else 1)
    torch.manual_seed(seed + 7919 * rank)
    sampler = Sampler(train, stream, args.window, seed + 7919 * rank)
    text_encoder = HashedTextEncoder()
    state_path = Path(args.state_dir) / f"train_state_{stream}.pt"
    step = 0
    timing = args.kind == "timing"
    if args.resume and state_path.is_file():
        st = torch.load(state_path, weights_only=True, map_location="cpu")
        res_scale, phase_scale = float(st["res_scale"]), st.get("phase_scale")
        phase_scale = None if phase_scale is None else float(phase_scale)
        if (phase_scale is not None) != timing:
            from ..cli import UserError

            raise UserError(f"{state_path}: saved for a {'timing' if phase_scale else 'residual'} model, "
                            f"not --kind {args.kind}")
    else:
        res_scale, phase_scale = _state_scales(Sampler(train, stream, args.window, seed, augment=False), "cpu",
                                               timing)
    spec_kw = dict(res_scale=res_scale, window=args.window, timing=timing, phase_scale=phase_scale or 0.1)
    model = RefinerNet.create(stream, args.preset, **spec_kw).to(device)
    ema = RefinerNet.create(stream, args.preset, **spec_kw).to(device)
    ema.load_state_dict(model.state_dict())
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(seed + 7919 * rank)
    elapsed0 = 0.0
    if args.resume and state_path.is_file():
        st = torch.load(state_path, weights_only=True, map_location=device)
        model.load_state_dict(st["model"])
        ema.load_state_dict(st["ema"])
        opt.load_state_dict(st["opt"])
        step = int(st["step"])
        elapsed0 = float(st.get("elapsed", 0.0))
        gen.set_state(st["gen"].cpu())
        sampler.rng = np.random.default_rng([seed + 7919 * rank, step])
        if rank == 0:
            print(f"[{stream}] resumed at step {step}", file=sys.stderr)
    net = DDP(model, find_unused_parameters=True) if world > 1 else model
    loss_fn = StreamLoss.for_spec(model.spec, device)
    total_iters = int(args.iters)
    budget = None if args.minutes is None else float(args.minutes) * 60.0
    warmup = 100

    def lr_at(i: int, elapsed: float) -> float:
        # cosine decay over whichever budget (steps or wall time) runs out first
        progress = min(1.0, max(i / total_iters, elapsed / budget if budget else 0.0))
        return args.lr * min(1.0, (i + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * progress))

    bar = None
    if rank == 0 and not args.no_progress:
        from tqdm import tqdm

        bar = tqdm(total=total_iters, initial=step, desc=f"kf2p {stream}", file=sys.stderr, dynamic_ncols=True)
    t0 = time.perf_counter()
    terms: dict[str, float] = {}
    running: dict[str, float] = {}
    while step < total_iters:
        elapsed = elapsed0 + time.perf_counter() - t0
        if budget is not None and elapsed >= budget:
            break
        for g in opt.param_groups:
            g["lr"] = lr_at(step, elapsed)
        batch = sampler.sample(args.batch)
        loss, terms = training_step(net, loss_fn, batch, gen, text_encoder, device)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        decay = min(args.ema, (1 + step) / (10 + step))
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(decay).add_(pm.detach(), alpha=1 - decay)
        step += 1
        for k, v in terms.items():
            running[k] = 0.98 * running.get(k, v) + 0.02 * v
        if bar is not None:
            bar.update(1)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{running['loss']:.3f}", pos=f"{running['pos_cm']:.3f}")
        if rank == 0 and step % 100 == 0:
            log.append({"stream": stream, "step": step, "elapsed_s": round(elapsed, 1),
                        **{k: round(v, 5) for k, v in running.items()}})
        if rank == 0 and (step % args.save_every == 0):
            _save_state(state_path, model, ema, opt, step, gen, (res_scale, phase_scale), elapsed0 + time.perf_counter() - t0)
    if bar is not None:
        bar.close()
    wall = elapsed0 + time.perf_counter() - t0
    result: dict[str, Any] = {"stream": stream, "steps": step, "wall_s": round(wall, 1), "res_scale": res_scale,
                              "phase_scale": phase_scale,
                              "parameters": model.n_parameters(), "final_terms": running}
    if rank == 0:
        _save_state(state_path, model, ema, opt, step, gen, (res_scale, phase_scale), wall)
        vb = val_batches(val, stream, args.window, args.val_batches, 16, args.seed) if len(val) else {}
        if vb:
            ev = evaluate(ema, loss_fn, vb, text_encoder, device)
            result["validation"] = ev
            strength = ev["strength"]
        else:
            strength = 1.0
        final = RefinerNet.create(stream, args.preset, strength=strength, **spec_kw)
        final.load_state_dict(ema.state_dict())
        meta = {"stream": stream, "steps": step, "wall_s": round(wall, 1), "seed": args.seed,
                "data": str(args.data), "command": " ".join(["python -m core train kf2p"] + sys.argv[3:]),
                "validation": result.get("validation"), "threads": args.threads}
        save_refiner(out / f"{stream}.pt", final, meta, half=args.half)
        load_refiner(out / f"{stream}.pt")  # written file must load
    return result


def _save_state(path: Path, model, ema, opt, step, gen, scales, elapsed) -> None:
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"model": model.state_dict(), "ema": ema.state_dict(), "opt": opt.state_dict(), "step": step,
                "gen": gen.get_state(), "res_scale": scales[0], "phase_scale": scales[1], "elapsed": elapsed}, tmp)
    os.replace(tmp, path)


def _spacings(args) -> tuple[int, ...]:
    from ..cli import UserError

    try:
        out = tuple(sorted({int(x) for x in str(args.calibrate_spacings).split(",") if x.strip()}))
    except ValueError:
        raise UserError(f"--calibrate-spacings {args.calibrate_spacings!r}: expected integers like 4,8,12") from None
    if not out or out[0] < 2:
        raise UserError("--calibrate-spacings: each spacing must be >= 2")
    return out


def main(args) -> int:
    import torch

    from ..cli import UserError

    if isinstance(args, list):
        p = argparse.ArgumentParser(prog="python -m core train kf2p")
        add_arguments(p)
        args = p.parse_args(args)
    if args.window % 8:
        raise UserError(f"--window {args.window}: must be a multiple of 8")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"--device {args.device}: CUDA is not available")
    if args.threads:
        torch.set_num_threads(int(args.threads))
    # denormal floats made a body-stream step 10-30x slower on this CPU (measured)
    torch.set_flush_denormal(True)
    np.random.seed(args.seed)
    t0 = time.perf_counter()
    train = load_clips(args.data, "train")
    val = load_clips(args.data, "val")
    if args.cache:
        load_clips(args.data, "all").save(args.cache) if not _is_clip_cache(Path(args.data)) else None
    if not len(train):
        raise UserError(f"{args.data}: no training clips")
    print(f"kf2p: {len(train)} training clips ({train.n_frames} frames), {len(val)} validation clips "
          f"({val.n_frames} frames), loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log: list = []
    results = []
    streams = ("body", "hand") if args.stream == "both" else (args.stream,)
    if args.calibrate_only:
        for s in streams:
            cal = calibrate(out / f"{s}.pt", val, spacings=_spacings(args))
            print(f"{s}: strength by spacing " + ", ".join(
                f"{k}: {v['strength']}" + (f"/{v['geometry']}" if "geometry" in v else "")
                for k, v in cal["per_spacing"].items()), file=sys.stderr)
        return 0
    for s in streams:
        results.append(train_stream(s, train, val, args, log))
    world, rank = _dist()
    if rank == 0 and not args.no_calibrate and len(val):
        for r in results:
            r["calibration"] = calibrate(out / f"{r['stream']}.pt", val, spacings=_spacings(args))
    if rank == 0:
        summary = {"data": str(args.data), "seed": args.seed, "train_clips": len(train),
                   "train_frames": train.n_frames, "val_clips": len(val), "results": results,
                   "total_wall_s": round(time.perf_counter() - t0, 1), "log": log}
        (out / "train_log.json").write_text(json.dumps(summary, indent=1, default=float))
        for r in results:
            v = r.get("validation")
            msg = f"{r['stream']}: {r['steps']} steps in {r['wall_s']:.0f} s"
            if v:
                msg += f", strength {v['strength']}: " + ", ".join(
                    f"s{s}: slerp {row['slerp']:.3f} eased {row['eased']:.3f} model {row['s' + format(v['strength'], 'g')]:.3f} cm"
                    for s, row in v["per_spacing_cm"].items())
            print(msg, file=sys.stderr)
    if world > 1:
        import torch.distributed as dist

        dist.destroy_process_group()
    return 0


# ---------------------------------------------------------------------------------------------
# "Adapt to this sequence": fine-tune the refiner on a document's own SOURCE frames


def source_clips(seq, exclude: list[tuple[int, int]] = (), min_len: int = 12) -> Clips:
    """The document's SOURCE stretches as training clips, never touching ``exclude`` (the spans
    being regenerated, each grown to its enclosing keys): real motion of this very signer."""
    from ..kinematics.slerp import enclosing_span
    from ..model.sequence import FrameState

    ok = np.asarray(seq.base_states) == FrameState.SOURCE
    for lo, hi in exclude:
        glo, ghi = enclosing_span(seq, int(lo), int(hi))
        ok[glo:ghi] = False
    d = np.diff(np.concatenate([[0], ok.astype(np.int8), [0]]))
    clips = Clips()
    for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]):
        if b - a >= min_len:
            clips.rotations.append(np.array(seq.rotations[a:b], np.float32))
            clips.valid.append(np.array(seq.valid[a:b], bool))
            clips.language.append(seq.language or "")
            clips.text.append(seq.text or "")
    return clips


def adapt_inbetweener(inb, clips: Clips, steps: int = 150, lr: float = 2e-4, batch: int = 8,
                      window: int = 64, seed: int = 0, cancel=None, progress=None):
    """A copy of ``inb`` whose refiner streams were fine-tuned on ``clips`` (``source_clips``).

    Few steps at a low learning rate from the bundled weights (the deterministic objective:
    x0 = 0), so an adapted model stays close to the bundled one. ``cancel()`` is checked between
    steps (returns None when cancelled); ``progress(done, total)`` after each. Streams without
    enough real frames in ``clips`` are left as they were."""
    import copy

    import torch

    from .kf2p_inbetween import KF2PInbetweener, RefinerSampler
    from .refiner import HashedTextEncoder

    streams = dict(inb.streams)
    work = [(name, s) for name, s in streams.items() if isinstance(s, RefinerSampler)]
    total = steps * len(work)
    done = 0
    for name, s in work:
        try:
            sampler = Sampler(clips, s.stream, window, seed)
        except ValueError:
            continue  # no usable frames of this stream
        model = copy.deepcopy(s.model).train()
        opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
        loss_fn = StreamLoss.for_spec(s.spec, "cpu")
        gen = torch.Generator().manual_seed(seed)
        enc = HashedTextEncoder()
        torch.set_flush_denormal(True)
        for _ in range(steps):
            if cancel is not None and cancel():
                return None
            loss, _ = training_step(model, loss_fn, sampler.sample(batch, source_doc=0.5), gen, enc, "cpu",
                                    text_dropout=0.0, det_frac=1.0, t0_frac=0.5)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            done += 1
            if progress is not None:
                progress(done, total)
        streams[name] = RefinerSampler(model.eval(), strength=s.strength, variation=s.variation, method=s.method,
                                       max_window=s.max_window, geometry=s.geometry)
    return KF2PInbetweener(streams, eased=inb.eased, steps=inb.steps, context=inb.context, batch=inb.batch,
                           device=inb.device, name=f"{inb.name}+adapted")
