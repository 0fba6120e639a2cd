"""KF2P training data: real motion clips (``Clips``: from a corpus, a folder of sequence files or a
clip cache), the by-language split, a document's own SOURCE stretches (``source_clips``) and the
random training windows with keys placed the way documents have them (``place_keys``,
``Sampler``, with mirroring / speed / pose augmentation). Shared by training, adaptation and
evaluation (``core.ml.kf2p.train``, ``adapt``, ``eval``). numpy only at module level.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

SPACINGS = np.arange(3, 25)
# key spacing 3-24, weighted towards 8-16
SPACING_P = np.where((SPACINGS >= 8) & (SPACINGS <= 16), 3.0, 1.0)
SPACING_P = SPACING_P / SPACING_P.sum()
MIRROR_PAIRS = ((13, 14), (16, 17), (18, 19), (20, 21))  # collars, shoulders, elbows, wrists
MIRROR_M = np.array([[1.0, -1.0, -1.0], [-1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]])  # M R M, M = diag(-1,1,1)


# ---------------------------------------------------------------------------------------------
# Clips


@dataclass
class Clips:
    """Real motion clips. rotations[i]: (T, 52, 3, 3) float32; valid[i]: (T, 52) bool."""

    rotations: list[np.ndarray] = field(default_factory=list)
    valid: list[np.ndarray] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rotations)

    def subset(self, idx) -> Clips:
        return Clips(
            [self.rotations[i] for i in idx],
            [self.valid[i] for i in idx],
            [self.language[i] for i in idx],
            [self.text[i] for i in idx],
        )

    @property
    def n_frames(self) -> int:
        return int(sum(len(r) for r in self.rotations))

    def save(self, path: str | Path) -> None:
        from ...io.atomic import atomic_path

        lengths = np.array([len(r) for r in self.rotations])
        with atomic_path(Path(path)) as tmp:
            with open(tmp, "wb") as f:
                np.savez_compressed(
                    f,
                    format=np.array("signframe-kf2p-clips"),
                    lengths=lengths,
                    rotations=np.concatenate(self.rotations),
                    valid=np.concatenate(self.valid),
                    languages=np.array(self.language),
                    texts=np.array(self.text),
                )


def _from_cache(path: Path) -> Clips:
    from ...errors import UserError
    from ...io.errors import FormatError
    from ...io.npzfile import load_all

    try:
        d = load_all(path)  # checked before allocating, no pickle
        off = np.concatenate([[0], np.cumsum(d["lengths"])]).astype(np.int64)
        rot, val = d["rotations"].astype(np.float32), d["valid"].astype(bool)
        langs = [str(x) for x in d["languages"]]
        texts = [str(x) for x in d["texts"]] if "texts" in d else [""] * len(langs)
        if off[-1] != len(rot) or len(val) != len(rot) or len(langs) != len(off) - 1 or (np.diff(off) < 0).any():
            raise ValueError("lengths, rotations, valid and languages disagree")
    except FormatError as e:
        raise UserError(str(e)) from None
    except (KeyError, ValueError, TypeError, IndexError) as e:
        raise UserError(f"{path}: damaged clip cache ({type(e).__name__}: {e})".splitlines()[0]) from None
    return Clips(
        [rot[a:b] for a, b in zip(off[:-1], off[1:])], [val[a:b] for a, b in zip(off[:-1], off[1:])], langs, texts
    )


def is_clip_cache(path: Path) -> bool:
    if path.suffix != ".npz" or not path.is_file():
        return False
    from ...io.errors import FormatError
    from ...io.npzfile import open_npz

    try:
        with open_npz(path) as d:
            if {"rotations", "valid", "lengths", "languages"} <= d.keys:
                return True
            return "format" in d.keys and d.text("format") == "signframe-kf2p-clips"
    except FormatError:
        return False  # not a clip cache; what it is (or why it is unreadable) is said later


def is_corpus(path: Path) -> bool:
    """A corpus from ``python -m core data build`` (decided by the corpus module when present)."""
    if path.is_dir() or path.suffix != ".npz" or is_clip_cache(path):
        return False
    try:
        from ...data import corpus as corpus_mod
    except ImportError:
        return False
    check = getattr(corpus_mod, "is_corpus", None)
    if check is not None:
        return bool(check(path))
    return "corpus" in path.name.lower()


def seq_clip(seq) -> tuple[np.ndarray, np.ndarray]:
    """A corpus / file sequence -> (rotations, valid) with GENERATED frames marked invalid (they
    are not real motion: a corpus chain's synthetic transitions must not be learnt)."""
    from ...model.sequence import FrameState

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
    return [(rot[a:b], valid[a:b]) for a, b in zip(np.nonzero(d == 1)[0], np.nonzero(d == -1)[0]) if b - a >= min_len]


def load_clips(data: str | Path, split: str = "train") -> Clips:
    """``split`` of ``data`` (see the module docstring). Languages held out of folders and clip
    caches: ``split_languages``."""
    from ...errors import UserError

    path = Path(data)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    clips = Clips()
    if path.is_dir() or is_clip_cache(path):
        if path.is_dir():
            from ...io import registry
            from ..fast.data import sequence_files

            for f in sequence_files(path):
                try:
                    seq = registry.read(f)
                except Exception as e:  # noqa: BLE001 - a damaged file is skipped, not fatal
                    print(f"skipping {f}: {e}", file=sys.stderr)
                    continue
                r, v = seq_clip(seq)
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
    from ...data.corpus import CorpusError, load_corpus

    try:
        corpus = load_corpus(path)
    except CorpusError as e:
        raise UserError(str(e)) from None
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
    return {"train": set(languages) - test - val, "val": val, "test": test, "all": set(languages)}


# ---------------------------------------------------------------------------------------------
# Samples


def _resample(rot: np.ndarray, valid: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Play ``rot`` (T, J, 3, 3) ``factor`` times faster: nlerp of quaternions between frames."""
    from ...model.rotations import matrix_to_quat, quat_to_matrix

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
    from ...model.rotations import axis_angle_to_matrix

    return axis_angle_to_matrix(rng.normal(0.0, sigma, shape + (3,))).astype(np.float32)


def place_keys(
    length: int, rng: np.random.Generator, spacing: int | None = None, source_doc: bool = False
) -> np.ndarray:
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
            obs[a + 1 : a + g] = False
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
        from ..refiner import STREAM_JOINTS

        self.clips, self.stream, self.window, self.augment = clips, stream, window, augment
        self.rng = np.random.default_rng(seed)
        self.joints = {
            "body": [list(STREAM_JOINTS["body"])],
            "hand": [list(STREAM_JOINTS["left_hand"]), list(STREAM_JOINTS["hand"])],
        }[stream]
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
            rot, val = rot[a : a + span], val[a : a + span]
            if self.stream == "body" and self.augment and rng.random() < 0.5:
                rot, val = _mirror_body(rot, val)
            joints = self.joints[side]
            r, v = rot[:, joints], val[:, joints]
            if side == 0 and self.stream == "hand":  # left hand into the right-hand model
                from ...model.rotations import FLIP_SIGNS

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


def source_clips(seq, exclude: list[tuple[int, int]] = (), min_len: int = 12) -> Clips:
    """The document's SOURCE stretches as training clips, never touching ``exclude`` (the spans
    being regenerated, each grown to its enclosing keys): real motion of this very signer."""
    from ...model.sequence import FrameState
    from ...model.spans import enclosing_span

    ok = np.asarray(seq.base_states) == FrameState.SOURCE
    for lo, hi in exclude:
        glo, ghi = enclosing_span(seq.key_frames, int(lo), int(hi), seq.n_frames)
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
