"""The training corpus file (``python -m core data build``) and its reader, ``load_corpus``.

The file is an ``.npz`` (a zip of ``.npy`` arrays, no pickle: strings are unicode arrays; clips
and chains of different lengths are concatenated along the frame axis with offsets). Layout:

Scalars and tables
- ``format`` "signframe-corpus", ``version`` (int), ``seed`` (int), ``chain_fps`` (float),
  ``joint_names`` (52,) our skeleton's joints (rotations below are local, on TEMPLATE).
- ``languages`` (L,) sign language codes; ``language_split`` (L,) "train" / "val" / "test":
  whole languages are held out.
Clips (the lexicon's letters, converted by the default IK, at their own frame rate)
- ``clip_offsets`` (C+1,) int64: clip i is frames ``clip_offsets[i]:clip_offsets[i+1]``;
- ``clip_rot6d`` (Fc, 52, 6) float16: 6D rotations (first two matrix rows, docs/representation.md);
- ``clip_valid`` (Fc, 52) bool: the joint was observed (False: a hand not detected, ...);
- ``clip_language`` (C,) int16 index into ``languages``; ``clip_letter`` (C,) str;
  ``clip_fps`` (C,) float32; ``clip_source`` (C,) str (path inside the lexicon);
  ``clip_core`` (C, 2) int32 the signing core, inclusive; ``clip_dominant`` (C,) "left"/"right".
- ``dropped_source`` / ``dropped_reason`` (D,) str: clips left out and why.
Chains (continuous signing built from the clips of one language, at ``chain_fps``)
- ``chain_offsets`` (N+1,) int64; ``chain_rot6d`` (F, 52, 6) float16; ``chain_valid`` (F, 52);
- ``chain_labels`` (F,) uint8 B/I/O (0 O, 1 I, 2 B) with boundaries blurred by a frame or two,
  ``chain_labels_exact`` (F,) the exact ones; ``chain_real`` (F,) bool: frame copied from a clip
  (False: synthesised transition or rest);
- ``chain_language`` (N,) int16; ``chain_mirrored`` (N,) bool (left/right swapped);
  ``chain_idle_synth`` (N,) bool (the idle hand is damped real motion from other clips);
- ``segment_offsets`` (N+1,) int64 into ``segments`` (S, 2) int32: each chain's signs (start,
  end inclusive, chain-relative, exact), ``segment_clip`` (S,) int32: the clip of each sign.
Keyframes follow the paper's policy from the segments (onset, (start+end)//2, offset).

The file is byte-for-byte deterministic for a seed (fixed zip timestamps, seeded generators).
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import UserError
from ..model.rotations import matrix_to_6d, sixd_to_matrix
from ..model.sequence import Keyframe, Segment, keyframes_from_segments
from ..model.skeleton import JOINT_NAMES

FORMAT = "signframe-corpus"
VERSION = 1
SPLITS = ("train", "val", "test")


# --- reader -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CorpusClip:
    """One lexicon letter. rot6d (T, 52, 6) float16 (a read-only view), valid (T, 52)."""

    index: int
    rot6d: np.ndarray
    valid: np.ndarray
    fps: float
    language: str
    split: str
    letter: str
    source: str
    core: tuple[int, int]
    dominant: str

    def rotations(self) -> np.ndarray:
        """(T, 52, 3, 3) float32 local rotations."""
        return sixd_to_matrix(self.rot6d.astype(np.float32)).astype(np.float32)


@dataclass(frozen=True, eq=False)
class CorpusChain:
    """One continuous chain. rot6d (T, 52, 6) float16, valid (T, 52), labels / labels_exact
    (T,) uint8, real (T,) bool; segments: the signs (exact boundaries); clips: their clip
    indices."""

    index: int
    rot6d: np.ndarray
    valid: np.ndarray
    labels: np.ndarray
    labels_exact: np.ndarray
    real: np.ndarray
    fps: float
    language: str
    split: str
    segments: tuple[Segment, ...]
    clips: tuple[int, ...]
    mirrored: bool
    idle_synth: bool

    def rotations(self) -> np.ndarray:
        return sixd_to_matrix(self.rot6d.astype(np.float32)).astype(np.float32)

    @property
    def keyframes(self) -> tuple[Keyframe, ...]:
        return tuple(keyframes_from_segments(self.segments))


@dataclass(frozen=True, eq=False)
class Corpus:
    clips: tuple[CorpusClip, ...]
    chains: tuple[CorpusChain, ...]
    languages: tuple[str, ...]
    split: Mapping[str, str]  # language -> "train" / "val" / "test"
    chain_fps: float
    joint_names: tuple[str, ...]
    seed: int
    dropped: tuple[tuple[str, str], ...] = ()
    meta: Mapping[str, Any] = field(default_factory=dict)

    def chains_in(self, split: str) -> tuple[CorpusChain, ...]:
        return tuple(c for c in self.chains if c.split == split)

    def clips_in(self, split: str) -> tuple[CorpusClip, ...]:
        return tuple(c for c in self.clips if c.split == split)


class CorpusError(UserError, ValueError):
    """A corpus file that cannot be used; one line naming the file (the command line exits 2)."""

    pass


def _ro(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def load_corpus(path: str | Path) -> Corpus:
    """Read a corpus file (no pickle). Arrays in the result are read-only views."""
    path = Path(path)
    from ..io.errors import FormatError
    from ..io.npzfile import load_all

    try:
        d = load_all(path)  # sizes checked before allocating, no pickle
    except FormatError as e:
        raise CorpusError(f"{e} (not a readable corpus file)") from None
    try:
        return _corpus_from_arrays(path, d)
    except (KeyError, IndexError, ValueError, TypeError, OverflowError) as e:
        # a damaged or hand-made corpus: one line naming the file, never a traceback
        raise CorpusError(f"{path}: damaged corpus file ({type(e).__name__}: {e})".splitlines()[0]) from None


def _corpus_from_arrays(path: Path, d: dict[str, np.ndarray]) -> Corpus:
    if str(d.get("format", "")) != FORMAT:
        raise CorpusError(f"{path}: not a Signframe corpus file")
    if int(d["version"]) > VERSION:
        raise CorpusError(f"{path}: corpus version {int(d['version'])} is newer than this Signframe reads ({VERSION})")
    langs = tuple(str(x) for x in d["languages"])
    split = dict(zip(langs, (str(x) for x in d["language_split"])))
    for k in (
        "clip_rot6d",
        "clip_valid",
        "chain_rot6d",
        "chain_valid",
        "chain_labels",
        "chain_labels_exact",
        "chain_real",
    ):
        _ro(d[k])
    co = d["clip_offsets"]
    clips = []
    for i in range(len(co) - 1):
        a, b = int(co[i]), int(co[i + 1])
        lang = langs[int(d["clip_language"][i])]
        clips.append(
            CorpusClip(
                i,
                d["clip_rot6d"][a:b],
                d["clip_valid"][a:b],
                float(d["clip_fps"][i]),
                lang,
                split[lang],
                str(d["clip_letter"][i]),
                str(d["clip_source"][i]),
                (int(d["clip_core"][i, 0]), int(d["clip_core"][i, 1])),
                str(d["clip_dominant"][i]),
            )
        )
    ho, so = d["chain_offsets"], d["segment_offsets"]
    fps = float(d["chain_fps"])
    chains = []
    for i in range(len(ho) - 1):
        a, b = int(ho[i]), int(ho[i + 1])
        sa, sb = int(so[i]), int(so[i + 1])
        lang = langs[int(d["chain_language"][i])]
        segs = tuple(Segment(int(s), int(e)) for s, e in d["segments"][sa:sb])
        chains.append(
            CorpusChain(
                i,
                d["chain_rot6d"][a:b],
                d["chain_valid"][a:b],
                d["chain_labels"][a:b],
                d["chain_labels_exact"][a:b],
                d["chain_real"][a:b],
                fps,
                lang,
                split[lang],
                segs,
                tuple(int(c) for c in d["segment_clip"][sa:sb]),
                bool(d["chain_mirrored"][i]),
                bool(d["chain_idle_synth"][i]),
            )
        )
    dropped = tuple(zip((str(x) for x in d["dropped_source"]), (str(x) for x in d["dropped_reason"])))
    return Corpus(
        tuple(clips), tuple(chains), langs, split, fps, tuple(str(x) for x in d["joint_names"]), int(d["seed"]), dropped
    )


@dataclass(frozen=True, eq=False)
class ChainSource:
    """What ``make_chain`` needs to draw more chains like a corpus's training chains: the
    training languages' clips prepared at the chain rate (language -> clips, corpus order) and
    the jitter and idle-hand banks built from them the way ``build_corpus`` builds its own."""

    clips: Mapping[str, tuple]
    jitter: Any
    idle_bank: list[np.ndarray]

    def draw(self, rng: np.random.Generator):
        """(language, chains.Chain): a language picked in proportion to its clips, as the
        builder does, then one chain of its clips only."""
        from .chains import make_chain

        langs = sorted(self.clips)
        lang = langs[int(pick_languages([len(self.clips[x]) for x in langs], 1, rng)[0])]
        return lang, make_chain(list(self.clips[lang]), rng, self.jitter, self.idle_bank)


def training_chain_source(corpus: Corpus, path: str | Path = "corpus") -> ChainSource:
    """A ChainSource over the clips of the corpus's "train" languages only (validation and test
    clips are never touched). Raises CorpusError when there are none."""
    from .chains import prepare

    train = corpus.clips_in("train")
    if not train:
        raise CorpusError(f"{path}: no training-language clips to build chains from")
    prepared = [prepare(c.index, c.rotations(), c.valid, c.fps, c.core, c.dominant) for c in train]
    by_lang: dict[str, list] = {}
    for c, p in zip(train, prepared):
        by_lang.setdefault(c.language, []).append(p)
    jitter, idle = chain_banks(prepared)  # corpus order, as the builder's banks
    return ChainSource({k: tuple(v) for k, v in by_lang.items()}, jitter, idle)


# --- writer -----------------------------------------------------------------------------------


def save_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """np.savez-compatible, deterministic: fixed member order and timestamps, deflated."""
    from ..io.atomic import atomic_path

    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            for name in arrays:
                a = np.asarray(arrays[name])
                if a.dtype == object:
                    raise ValueError(f"corpus array {name} has dtype object")
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                buf = io.BytesIO()
                np.lib.format.write_array(buf, a, allow_pickle=False)
                zf.writestr(info, buf.getvalue(), compresslevel=6)
        os.chmod(tmp, 0o644)  # a data file, not a secret (the temporary file is created 0600)


def _concat(parts: list[np.ndarray], tail: tuple[int, ...], dtype) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(parts) + 1, np.int64)
    offsets[1:] = np.cumsum([len(p) for p in parts])
    data = np.concatenate(parts).astype(dtype) if parts else np.zeros((0,) + tail, dtype)
    return data, offsets


@dataclass(frozen=True, eq=False)
class BuildReport:
    n_clips: int
    n_dropped: int
    n_chains: int
    chain_frames: int
    split: Mapping[str, str]
    stats: Mapping[str, Any]


def _split_languages(langs: list[str], two_handed: set[str], seed: int) -> dict[str, str]:
    """Two languages held out for validation and two for test (one two-handed among the test
    languages when the data has one); the rest train. Seeded, independent of anything else."""
    rng = np.random.default_rng([seed, 7])
    order = [langs[i] for i in rng.permutation(len(langs))]
    n_hold = 2 if len(langs) >= 6 else (1 if len(langs) >= 3 else 0)
    split = {lang: "train" for lang in langs}
    test: list[str] = []
    th = [x for x in order if x in two_handed]
    if n_hold and len(th) >= 2:  # keep at least one two-handed language in training
        test.append(th[0])
    for x in order:
        if len(test) >= n_hold:
            break
        if x not in test:
            test.append(x)
    val = [x for x in order if x not in test][:n_hold]
    for x in test:
        split[x] = "test"
    for x in val:
        split[x] = "val"
    return split


def build_corpus(
    out: str | Path,
    *,
    seed: int = 0,
    n_chains: int = 1000,
    entries=None,
    progress: Callable[[Iterable, str, int], Iterable] | None = None,
) -> BuildReport:
    """Convert every lexicon clip, drop damaged ones, build chains, write ``out``."""
    from .chains import FPS, make_chain, prepare
    from .clips import load_clip
    from .lexicon import read_lexicon

    prog = progress or (lambda it, desc, total: it)
    entries = read_lexicon() if entries is None else list(entries)
    kept, dropped = [], []
    for e in prog(entries, "converting clips", len(entries)):
        clip, reason = load_clip(e.path)
        if clip is None:
            dropped.append((e.source, reason or "unknown"))
        else:
            kept.append((e, clip))
    by_lang: dict[str, list[int]] = {}
    for i, (e, _) in enumerate(kept):
        by_lang.setdefault(e.language, []).append(i)
    langs = sorted(x for x, v in by_lang.items() if len(v) >= 3)
    for x in sorted(set(by_lang) - set(langs)):
        for i in by_lang[x]:
            dropped.append((kept[i][0].source, f"language {x} has fewer than 3 usable clips"))
    kept = [(e, c) for e, c in kept if e.language in langs]
    by_lang = {}
    for i, (e, _) in enumerate(kept):
        by_lang.setdefault(e.language, []).append(i)

    def both_hands(c) -> bool:
        from ..model.skeleton import LEFT_HAND, RIGHT_HAND

        return bool((c.valid[:, LEFT_HAND].all(1) & c.valid[:, RIGHT_HAND].all(1)).mean() >= 0.5)

    two_handed = {x for x in langs if np.mean([both_hands(kept[i][1]) for i in by_lang[x]]) >= 0.3}
    split = _split_languages(langs, two_handed, seed)

    prepared = [prepare(i, c.rotations, c.valid, c.fps, c.core, c.dominant) for i, (_, c) in enumerate(kept)]
    train_ids = [i for i, (e, _) in enumerate(kept) if split[e.language] == "train"]
    jitter, idle_bank = chain_banks([prepared[i] for i in train_ids])

    counts = {"train": int(round(0.8 * n_chains)), "val": int(round(0.1 * n_chains))}
    counts["test"] = max(n_chains - counts["train"] - counts["val"], 0)
    jobs = []
    for si, s in enumerate(SPLITS):
        sl = [x for x in langs if split[x] == s]
        if not sl:
            continue
        rng = np.random.default_rng([seed, 11, si])
        lang_pick = pick_languages([len(by_lang[x]) for x in sl], counts[s], rng)
        jobs += [(s, si, j, sl[int(li)]) for j, li in enumerate(lang_pick)]
    chains = []
    for s, si, j, lang in prog(jobs, "building chains", len(jobs)):
        rng = np.random.default_rng([seed, 13, si, j])
        ch = make_chain([prepared[i] for i in by_lang[lang]], rng, jitter, idle_bank if s == "train" else [])
        chains.append((lang, ch))

    lang_index = {x: i for i, x in enumerate(langs)}
    clip_rot, clip_off = _concat([matrix_to_6d(c.rotations) for _, c in kept], (52, 6), np.float16)
    clip_valid, _ = _concat([c.valid for _, c in kept], (52,), bool)
    ch_rot, ch_off = _concat([matrix_to_6d(c.rotations) for _, c in chains], (52, 6), np.float16)
    seg_parts = [np.array(c.segments_exact, np.int32).reshape(-1, 2) for _, c in chains]
    segs, seg_off = _concat(seg_parts, (2,), np.int32)
    arrays = {
        "format": np.array(FORMAT),
        "version": np.array(VERSION, np.int64),
        "seed": np.array(seed, np.int64),
        "chain_fps": np.array(FPS, np.float64),
        "joint_names": np.array(JOINT_NAMES),
        "languages": np.array(langs),
        "language_split": np.array([split[x] for x in langs]),
        "clip_offsets": clip_off,
        "clip_rot6d": clip_rot,
        "clip_valid": clip_valid,
        "clip_language": np.array([lang_index[e.language] for e, _ in kept], np.int16),
        "clip_letter": np.array([e.letter for e, _ in kept]),
        "clip_fps": np.array([c.fps for _, c in kept], np.float32),
        "clip_source": np.array([e.source for e, _ in kept]),
        "clip_core": np.array([c.core for _, c in kept], np.int32).reshape(-1, 2),
        "clip_dominant": np.array([c.dominant for _, c in kept]),
        "dropped_source": np.array([d[0] for d in dropped]),
        "dropped_reason": np.array([d[1] for d in dropped]),
        "chain_offsets": ch_off,
        "chain_rot6d": ch_rot,
        "chain_valid": _concat([c.valid for _, c in chains], (52,), bool)[0],
        "chain_labels": _concat([c.labels for _, c in chains], (), np.uint8)[0],
        "chain_labels_exact": _concat([c.labels_exact for _, c in chains], (), np.uint8)[0],
        "chain_real": _concat([c.real for _, c in chains], (), bool)[0],
        "chain_language": np.array([lang_index[x] for x, _ in chains], np.int16),
        "chain_mirrored": np.array([c.mirrored for _, c in chains], bool),
        "chain_idle_synth": np.array([c.idle_hand_synth for _, c in chains], bool),
        "segment_offsets": seg_off,
        "segments": segs,
        "segment_clip": np.concatenate([np.array(c.clips, np.int32) for _, c in chains])
        if chains
        else np.zeros(0, np.int32),
    }
    save_arrays(out, arrays)
    stats = corpus_stats([c for _, c in chains], [prepared[i] for i in range(len(prepared))])
    return BuildReport(len(kept), len(dropped), len(chains), int(ch_off[-1]), split, stats)


def pick_languages(sizes: list[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) indices into ``sizes``: a language for each of n chains, drawn in proportion to its
    number of clips (so every clip is about equally likely to appear)."""
    w = np.array(sizes, float)
    return rng.choice(len(sizes), size=n, p=w / w.sum())


def chain_banks(train_clips: list) -> tuple[Any, list[np.ndarray]]:
    """make_chain's jitter bank and idle-hand bank, from the training languages' PreparedClips
    only (no held-out motion leaks into any chain)."""
    from .transitions import build_jitter_bank

    return build_jitter_bank([(c.rotations, c.valid) for c in train_clips]), _idle_bank(train_clips)


def _idle_bank(clips) -> list[np.ndarray]:
    """Real right-hand tracks (wrist + 15 finger joints, (T, 16, 3, 3)) for idle hands: runs of
    at least 8 frames where the dominant hand is seen; left-dominant clips are mirrored."""
    from ..model.rotations import FLIP_SIGNS
    from ..model.skeleton import JOINT_INDEX, LEFT_HAND, RIGHT_HAND

    bank = []
    for c in clips:
        sl = RIGHT_HAND if c.dominant == "right" else LEFT_HAND
        cols = [JOINT_INDEX[f"{c.dominant}_wrist"]] + list(range(sl.start, sl.stop))
        seen = c.valid[:, cols].all(1)
        tr = c.rotations[:, cols].astype(np.float64)
        if c.dominant == "left":
            tr = tr * FLIP_SIGNS
        padded = np.concatenate([[False], seen, [False]])
        for a, b in np.flatnonzero(padded[1:] != padded[:-1]).reshape(-1, 2):
            if b - a >= 8:
                bank.append(tr[a:b])
    return bank


def motion_energy(rot: np.ndarray) -> np.ndarray:
    """(T, 52, 3, 3) -> (T-1,) mean angular speed (radians per frame) over both wrists and all
    finger joints: how much the hands move from one frame to the next."""
    from ..model.skeleton import JOINT_INDEX, N_BODY
    from .rotmath import angular_speed

    cols = [JOINT_INDEX["left_wrist"], JOINT_INDEX["right_wrist"]] + list(range(N_BODY, 52))
    return angular_speed(rot[:, cols]).mean(axis=1)


def corpus_stats(chains, clips) -> dict[str, Any]:
    """Motion energy p10/p50/p90 of real clips' cores vs chains, label shares, transition vs SLERP."""

    def pct(x):
        return [round(float(v), 4) for v in np.percentile(x, [10, 50, 90])] if len(x) else []

    clip_e = (
        np.concatenate(
            [motion_energy(c.rotations[c.core[0] : c.core[1] + 1]) for c in clips if c.core[1] - c.core[0] >= 1]
        )
        if clips
        else np.zeros(0)
    )
    chain_e = np.concatenate([motion_energy(c.rotations) for c in chains]) if chains else np.zeros(0)
    real = np.concatenate([c.real[1:] for c in chains]) if chains else np.zeros(0, bool)
    labels = np.concatenate([c.labels_exact for c in chains]) if chains else np.zeros(0, np.uint8)
    return {
        "motion_energy_clip_cores": pct(clip_e),
        "motion_energy_chains": pct(chain_e),
        "motion_energy_chain_real_frames": pct(chain_e[real]),
        "motion_energy_chain_synth_frames": pct(chain_e[~real]),
        "label_share": {k: round(float(np.mean(labels == v)), 3) for k, v in (("O", 0), ("I", 1), ("B", 2))},
        "frames": int(sum(len(c.labels) for c in chains)),
        "synth_share": round(float(1 - np.mean(np.concatenate([c.real for c in chains]))), 3) if chains else 0.0,
    }
