"""Labelled data for FAST: sequence files (with their own labels or a sibling .eaf) and the
training corpus (``core.data.corpus``). numpy only at import time.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from .features import hand_features
from .train import Sample

SKIP_EXT = (".json", ".eaf", ".md", ".txt", ".pt")


def sequence_files(data: str | Path) -> list[Path]:
    """A file, or the readable sequence files of a folder (sorted)."""
    from ...io import registry

    data = Path(data)
    if data.is_file():
        return [data]
    out = []
    for p in sorted(data.rglob("*")):
        if not p.is_file() or p.name.startswith(".") or p.name.lower().endswith(SKIP_EXT):
            continue
        try:
            fmt = registry.format_for(p)
        except Exception:  # noqa: BLE001 - not a sequence format
            continue
        if fmt.readable:
            out.append(p)
    return out


def gold_labels(path: Path, seq) -> np.ndarray:
    """A sibling ``NAME.eaf`` (NAME = the file name up to its first dot) if there is one, else the
    file's own labels."""
    from ...io import eaf

    stem = path.name.split(".")[0]
    sib = path.with_name(stem + ".eaf")
    if sib.is_file():
        return eaf.read_labels(sib, seq.n_frames, fps=seq.fps)
    return np.asarray(seq.labels, np.uint8)


def _sample(seq, labels: np.ndarray, kind: str, transitions: str | None, rng) -> Sample:
    if transitions and transitions != "as-built":
        seq = retransition(seq, labels, transitions, rng)
        kind = f"{kind}/{transitions}"
    return Sample(hand_features(seq), np.asarray(labels, np.uint8), language=seq.language, fps=seq.fps, kind=kind)


def samples_from_files(
    paths: Iterable[Path], kind: str = "file", transitions: str | None = None, seed: int = 0
) -> list[Sample]:
    """``transitions``: remake every transition in that style first (see ``retransition``)."""
    from ...io import registry

    rng = np.random.default_rng(seed)
    return [_sample(seq, gold_labels(p, seq), kind, transitions, rng) for p in paths for seq in [registry.read(p)]]


def samples_from_corpus(
    path: str | Path, split: str, transitions: str | None = None, seed: int = 0, exact: bool | None = None
) -> list[Sample]:
    """The chains of one split ("train" / "val" / "test") of a corpus built by ``core data build``.

    Labels: the blurred ones for training, the exact ones (``exact``, default for val / test) for
    evaluation. ``transitions``: remake every synthesised frame between two real ones in that
    style first (``retransition``)."""
    from ...data.corpus import load_corpus  # the corpus issue's module

    exact = split != "train" if exact is None else exact
    rng = np.random.default_rng(seed)
    corpus = load_corpus(path)
    out = []
    for ch in corpus.chains_in(split):
        labels = np.asarray(ch.labels_exact if exact else ch.labels, np.uint8)
        out.append(
            _chain_sample(
                ch.rotations(),
                ch.valid,
                labels,
                ch.real,
                ch.fps,
                ch.language,
                "chain-mirrored" if ch.mirrored else "chain",
                transitions,
                rng,
            )
        )
    return out


def _chain_sample(
    rot: np.ndarray,
    valid: np.ndarray,
    labels: np.ndarray,
    real: np.ndarray,
    fps: float,
    language: str,
    kind: str,
    transitions: str | None,
    rng: np.random.Generator,
) -> Sample:
    """One chain (rot (T, 52, 3, 3), valid (T, 52), labels (T,), real (T,) bool) as a Sample; with
    ``transitions``, its synthesised frames between two real ones remade in that style first."""
    from ...model.template import TEMPLATE
    from .features import features_from_arrays

    if transitions and transitions != "as-built":
        from ...model.sequence import new_sequence

        seq = new_sequence(rot, fps, valid=valid, labels=labels, check_rotations=False)
        rot = retransition(seq, labels, transitions, rng, remake=~np.asarray(real)).rotations
        kind = f"{kind}/{transitions}"
    return Sample(features_from_arrays(rot, None, valid, TEMPLATE), labels, language=language, fps=fps, kind=kind)


class FreshChains:
    """Training chains drawn on the fly from a corpus's training-language clips (the builder's
    ``make_chain``, jitter and idle-hand banks), so training is not limited to the file's fixed
    chains. Validation and test clips are never read into the source.

    ``exact``: label with the exact boundaries (else the blurred ones), as the fixed training
    samples are; ``styles``: transition styles the fixed set is also remade in - each fresh chain
    is kept as built or remade in one of them, with equal chances, so the mix matches the fixed
    set's. Calling it with (n, rng) returns n Samples, deterministic for the rng's seed.
    """

    def __init__(self, path: str | Path, *, exact: bool, styles: Iterable[str] = ()):
        from ...data.corpus import load_corpus, training_chain_source

        self.styles = ("as-built",) + tuple(x for x in styles if x and x != "as-built")
        bad = [x for x in self.styles if x != "as-built" and x not in TRANSITION_STYLES]
        if bad:
            raise ValueError(f"unknown transition style {bad[0]!r}")
        self.exact = exact
        self.source = training_chain_source(load_corpus(path), path)

    def chains(self, n: int, rng: np.random.Generator) -> list[tuple[str, str, Any]]:
        """n (language, transition style, core.data.chains.Chain) triples."""
        out = []
        for _ in range(n):
            lang, ch = self.source.draw(rng)
            out.append((lang, self.styles[int(rng.integers(len(self.styles)))], ch))
        return out

    def __call__(self, n: int, rng: np.random.Generator) -> list[Sample]:
        from ...data.chains import FPS
        from ...model.rotations import matrix_to_6d, sixd_to_matrix

        out = []
        for lang, style, ch in self.chains(n, rng):
            # through float16 6D, as the corpus stores its chains: no precision cue between the two
            rot = sixd_to_matrix(matrix_to_6d(ch.rotations).astype(np.float16).astype(np.float32)).astype(np.float32)
            labels = np.asarray(ch.labels_exact if self.exact else ch.labels, np.uint8)
            out.append(
                _chain_sample(
                    rot, ch.valid, labels, ch.real, FPS, lang, "fresh-mirrored" if ch.mirrored else "fresh", style, rng
                )
            )
        return out


def clip_samples_from_corpus(path: str | Path, split: str) -> list[Sample]:
    """The corpus's real lexicon clips of one split, one sign each: gold = the clip's signing
    core (B at its first frame, I through its last, O outside). No synthetic frame anywhere, so
    this measures what FAST does at real sign boundaries and how many signs it finds in one."""
    from ...data.corpus import load_corpus
    from ...model.sequence import Segment, labels_from_segments
    from ...model.template import TEMPLATE
    from .features import features_from_arrays

    out = []
    for c in load_corpus(path).clips_in(split):
        t = c.rot6d.shape[0]
        s, e = max(0, c.core[0]), min(t - 1, c.core[1])
        labels = labels_from_segments([Segment(s, max(s, e))], t).astype(np.uint8)
        out.append(
            Sample(
                features_from_arrays(c.rotations(), None, c.valid, TEMPLATE),
                labels,
                language=c.language,
                fps=c.fps,
                kind="real-clip",
            )
        )
    return out


def corpus_split_languages(path: str | Path) -> dict[str, list[str]]:
    from ...data.corpus import load_corpus

    split = load_corpus(path).split
    return {s: sorted(k for k, v in split.items() if v == s) for s in ("train", "val", "test")}


# --- the interpolation-shortcut check -------------------------------------------------------------
TRANSITION_STYLES = ("linear-jitter", "ease-out-jitter", "hold-then-move")


def smoothness_shortcut_labels(features: np.ndarray, threshold: float = 1e-3, min_length: int = 3) -> np.ndarray:
    """The shortcut a model must not learn, as a detector: frames whose joint rotations have an
    almost zero third difference (perfectly smooth, i.e. interpolated) are transitions (O), the
    rest signs. features: (T, 2, HAND_DIM). Returns (T,) uint8 labels."""
    from ...model.sequence import labels_from_segments, segments_from_labels
    from .features import ROT_DIMS

    rot = features[..., ROT_DIMS].reshape(features.shape[0], -1).astype(np.float64)
    jerk = np.zeros(features.shape[0])
    if rot.shape[0] > 3:
        d3 = np.abs(np.diff(rot, n=3, axis=0)).mean(axis=1)
        jerk[1:-2] = d3
        jerk[0], jerk[-2:] = d3[0], d3[-1]
    lab = np.where(jerk < threshold, 0, 1).astype(np.uint8)
    segs = [g for g in segments_from_labels(lab) if g.end - g.start + 1 >= min_length]
    return labels_from_segments(segs, lab.shape[0])


def retransition(seq, labels: np.ndarray, style: str, rng: np.random.Generator, remake: np.ndarray | None = None):
    """``seq`` with every transition made again a different way, from the last kept frame before
    it to the first kept frame after it. Transitions: the frames in ``remake`` (T,) bool (e.g. the
    corpus's synthesised frames), by default each O run between two signs; frames before the
    first and after the last sign frame are kept.

    style: "linear-jitter" (SLERP at constant speed), "ease-out-jitter" (fast start, slow end), or
    "hold-then-move" (frozen for a random part of the gap, then a fast SLERP); each with white
    rotation jitter whose size is the frame-to-frame jitter measured inside the signs. A model
    that found boundaries by spotting the corpus generator's transitions fails on these.
    """
    from scipy.spatial.transform import Rotation

    from ...kinematics.slerp import lerp_fill, slerp_fill
    from ...model.sequence import Label

    if style not in TRANSITION_STYLES:
        raise ValueError(f"unknown transition style {style!r}")
    labels = np.asarray(labels)
    t, j = seq.rotations.shape[:2]
    inside = labels != Label.O
    if inside.all() or not inside.any():
        return seq
    observed = inside.copy() if remake is None else ~np.asarray(remake, bool)
    first, last = np.flatnonzero(inside)[[0, -1]]
    observed[:first] = True  # lead-in and tail are not between two signs: keep them
    observed[last + 1 :] = True
    if style == "linear-jitter":
        ease = None
    elif style == "ease-out-jitter":

        def ease(u):
            return 1.0 - (1.0 - u) ** 2.5
    else:
        hold = float(rng.uniform(0.3, 0.6))

        def ease(u):
            return np.clip((u - hold) / (1.0 - hold), 0.0, 1.0)

    rot = slerp_fill(seq.rotations, np.repeat(observed[:, None], j, 1), ease)
    tr = lerp_fill(seq.translation, observed, ease)
    # jitter: frame-to-frame rotation angle inside signs, per joint (median), as white noise
    rel = np.einsum("tjab,tjcb->tjac", seq.rotations[1:], seq.rotations[:-1])
    ang = np.arccos(np.clip((np.trace(rel, axis1=-2, axis2=-1) - 1) / 2, -1, 1))
    sig = np.median(ang[inside[1:] & inside[:-1]], axis=0) if (inside[1:] & inside[:-1]).any() else np.zeros(j)
    gap = ~observed
    n = int(gap.sum())
    if n:
        noise = rng.normal(0, 1, (n, j, 3)) * (0.5 * sig)[None, :, None]
        rot[gap] = (Rotation.from_rotvec(noise.reshape(-1, 3)).as_matrix().reshape(n, j, 3, 3) @ rot[gap]).astype(
            np.float32
        )
    movable = seq.valid  # joints never observed keep their rotations
    rot = np.where(movable[..., None, None], rot, seq.rotations)
    return seq.with_frame_arrays(
        {**seq.frame_arrays(), "rotations": rot, "translation": tr, "source_rotations": rot, "source_translation": tr}
    )
