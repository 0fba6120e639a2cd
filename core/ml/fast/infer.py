"""Running FAST: checkpoint files, windowed batched inference, sequence -> segments and keyframes.

A FAST model folder (``assets/models/fast/``) holds ``fast.pt`` (``torch.save`` of a plain
name -> tensor dict, read with ``weights_only=True``) and ``config.json`` (network config, the
frame rate it was trained at, default decoding options, training facts). Long sequences run in
overlapping windows (``window`` frames, ``context`` frames of overlap on each side, blended with
weights that fade out towards window edges) packed into batches, so memory stays flat and an hour
of signing is one call.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Sequence as Seq
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...errors import LoadError
from ...model.sequence import Sequence
from ..segmentation import Decoded, DecodeOptions, decode
from .features import hand_features
from .net import FastConfig, FastNet

ROOT = Path(__file__).resolve().parents[3]
DEFAULT_MODEL_DIR = ROOT / "assets" / "models" / "fast"
WEIGHTS = "fast.pt"
CONFIG = "config.json"
FORMAT = "signframe-fast"


class FastModelError(LoadError):
    """A FAST model folder that cannot be used; one line naming the path."""


def save_model(
    folder: str | Path, model: FastNet, fps: float, decode_options: DecodeOptions, meta: dict[str, Any] | None = None
) -> None:
    """Write ``fast.pt`` + ``config.json`` into ``folder`` (each atomically)."""
    from ...io.atomic import atomic_path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().clone().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / WEIGHTS) as tmp:
        torch.save(state, tmp)
    cfg = {
        "format": FORMAT,
        "version": 1,
        "model": model.config.to_dict(),
        "fps": float(fps),
        "decode": {
            "sensitivity": decode_options.sensitivity,
            "min_length": decode_options.min_length,
            "merge_gap": decode_options.merge_gap,
            "peak_radius": decode_options.peak_radius,
        },
        "meta": meta or {},
    }
    with atomic_path(folder / CONFIG) as tmp:
        tmp.write_text(json.dumps(cfg, indent=2, sort_keys=True))


def load_model(folder: str | Path = DEFAULT_MODEL_DIR, device: str = "cpu") -> tuple[FastNet, dict]:
    """(model in eval mode, config dict). Raises FastModelError."""
    folder = Path(folder)
    if folder.is_file():
        folder = folder.parent
    cfg_path, w_path = folder / CONFIG, folder / WEIGHTS
    if not cfg_path.is_file() or not w_path.is_file():
        raise FastModelError(f"{folder}: not a FAST model folder (needs {CONFIG} and {WEIGHTS})")
    try:
        cfg = json.loads(cfg_path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise FastModelError(f"{cfg_path}: unreadable config ({e})") from None
    if cfg.get("format") != FORMAT:
        raise FastModelError(f"{cfg_path}: not a FAST config (format {cfg.get('format')!r})")
    try:
        state = torch.load(w_path, weights_only=True, map_location=device)
    except Exception as e:  # noqa: BLE001 - any unpickling problem is a bad file
        raise FastModelError(f"{w_path}: not a readable checkpoint ({str(e).splitlines()[0][:200]})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise FastModelError(f"{w_path}: not a name -> tensor dict")
    model = FastNet(FastConfig.from_dict(cfg["model"]))
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise FastModelError(f"{w_path}: does not match its config ({str(e).splitlines()[0][:200]})") from None
    return model.to(device).eval(), cfg


def resample_index(n_frames: int, fps: float, target_fps: float) -> np.ndarray:
    """Nearest source frame for each frame at ``target_fps`` (identity when the rates are close)."""
    if abs(fps / target_fps - 1.0) < 0.1:
        return np.arange(n_frames)
    n_out = max(1, int(round(n_frames * target_fps / fps)))
    return np.minimum(np.round(np.arange(n_out) * fps / target_fps).astype(np.int64), n_frames - 1)


def _window_starts(t: int, window: int, context: int) -> list[int]:
    if t <= window:
        return [0]
    stride = window - 2 * context
    starts = list(range(0, t - window, stride))
    starts.append(t - window)
    return starts


def _blend_weights(start: int, length: int, t: int, context: int) -> np.ndarray:
    """Weights of a window's frames: ramp over ``context`` frames at edges that are not the
    sequence's own ends."""
    i = np.arange(length, dtype=np.float32)
    w = np.ones(length, np.float32)
    if start > 0:
        w = np.minimum(w, (i + 1) / (context + 1))
    if start + length < t:
        w = np.minimum(w, (length - i) / (context + 1))
    return w


@torch.inference_mode()
def predict_features(
    model: FastNet,
    features: Seq[np.ndarray],
    *,
    window: int = 256,
    context: int = 32,
    batch_size: int = 16,
    device: str = "cpu",
    progress=None,
) -> list[np.ndarray]:
    """features: list of (T_i, 2, F) arrays -> list of (T_i, 3) float32 O/I/B probabilities.

    ``progress``: optional callable(n_frames_done) called after each batch.
    """
    jobs: list[tuple[int, int, int]] = []  # (sequence, start, length)
    for k, f in enumerate(features):
        t = f.shape[0]
        for s in _window_starts(t, window, context):
            jobs.append((k, s, min(window, t - s)))
    acc = [np.zeros((f.shape[0], 3), np.float32) for f in features]
    wsum = [np.zeros(f.shape[0], np.float32) for f in features]
    # long windows first, so batches of full windows need no padding
    jobs.sort(key=lambda j: -j[2])
    in_dim = features[0].shape[-1] if features else 0
    for b in range(0, len(jobs), batch_size):
        chunk = jobs[b : b + batch_size]
        length = max(j[2] for j in chunk)
        x = np.zeros((len(chunk), length, 2, in_dim), np.float32)
        pad = np.zeros((len(chunk), length), bool)
        for r, (k, s, n) in enumerate(chunk):
            x[r, :n] = features[k][s : s + n]
            pad[r, n:] = True
        xt = torch.from_numpy(x).to(device)
        mask = torch.from_numpy(pad).to(device) if pad.any() else None
        probs = torch.softmax(model(xt, mask).float(), dim=-1).cpu().numpy()
        done = 0
        for r, (k, s, n) in enumerate(chunk):
            w = _blend_weights(s, n, features[k].shape[0], context)
            acc[k][s : s + n] += probs[r, :n] * w[:, None]
            wsum[k][s : s + n] += w
            done += n
        if progress is not None:
            progress(done)
    return [a / np.maximum(w, 1e-8)[:, None] for a, w in zip(acc, wsum)]


@dataclass
class Segmenter:
    """A loaded FAST model with its decoding defaults."""

    model: FastNet
    fps: float
    options: DecodeOptions
    device: str = "cpu"
    window: int = 256
    context: int = 32
    batch_size: int = 16  # small batches of windows stay in cache: measured faster than 64 on CPU
    config: dict = field(default_factory=dict)

    @classmethod
    def load(cls, folder: str | Path | None = None, device: str = "cpu", **overrides: Any) -> Segmenter:
        model, cfg = load_model(folder or DEFAULT_MODEL_DIR, device)
        d = cfg.get("decode", {})
        opts = DecodeOptions(**{k: d[k] for k in ("sensitivity", "min_length", "merge_gap", "peak_radius") if k in d})
        return cls(model=model, fps=float(cfg.get("fps", 25.0)), options=opts, device=device, config=cfg, **overrides)

    def probs_many(self, features: Seq[np.ndarray], fps: Seq[float], progress=None) -> list[np.ndarray]:
        """Features (T_i, 2, F) at frame rates ``fps`` -> (T_i, 3) probabilities at those rates."""
        idx = [resample_index(f.shape[0], r, self.fps) for f, r in zip(features, fps)]
        res = predict_features(
            self.model,
            [f[i] for f, i in zip(features, idx)],
            window=self.window,
            context=self.context,
            batch_size=self.batch_size,
            device=self.device,
            progress=progress,
        )
        out = []
        for p, i, f, r in zip(res, idx, features, fps):
            if len(i) == f.shape[0] and np.array_equal(i, np.arange(f.shape[0])):
                out.append(p)
            else:  # back to the source rate: nearest resampled frame for each source frame
                back = np.minimum(np.round(np.arange(f.shape[0]) * self.fps / r).astype(np.int64), len(i) - 1)
                out.append(p[back])
        return out

    def probs(self, seq: Sequence) -> np.ndarray:
        return self.probs_many([hand_features(seq)], [seq.fps])[0]

    def segment(self, seq: Sequence, options: DecodeOptions | None = None) -> Decoded:
        return decode(self.probs(seq), options or self.options)

    def segment_many(
        self, seqs: Iterable[Sequence], options: DecodeOptions | None = None, progress=None
    ) -> list[Decoded]:
        seqs = list(seqs)
        probs = self.probs_many([hand_features(s) for s in seqs], [s.fps for s in seqs], progress)
        return [decode(p, options or self.options) for p in probs]
