"""FAST on real signing without frame labels: ``python -m core eval fast DIR`` where DIR holds real
landmark files (``.pose``), e.g. ``../shared/realdata/phoenix_train`` (continuous sentences, gloss
lists in ``index.json``) or ``../shared/realdata/signsuisse_val`` (isolated signs).

Reported per folder (decoded with the model's defaults, or ``--sensitivity`` / ``--min-length`` /
``--merge-gap``):
- sentences (files with a gloss list in ``index.json``): segments found / glosses, per file and
  pooled (sum of segments / sum of glosses);
- isolated-sign clips (no gloss list, at most ``ISOLATED_MAX_S`` seconds): the share found as
  exactly one sign, as none, and the mean number found;
- boundary sanity: the share of clips whose first and last ``REST_FRAMES`` frames are labelled O
  (real clips start and end at rest, or with the hands out of view);
- ``--decode-sweep``: the same figures over a grid of decoding options (how the defaults in
  ``assets/models/fast/config.json`` were chosen); ``--half even|odd`` keeps every other file
  (sorted by name), so options chosen on one half can be checked on the other.

No gold frame labels are needed, so any folder of real recordings can be checked.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ISOLATED_MAX_S = 4.0
REST_FRAMES = 2
SWEEP_SENSITIVITY = (0.2, 0.3, 0.4, 0.5, 0.6)
SWEEP_MIN_LENGTH = (3, 5, 8, 10, 12)
SWEEP_MERGE_GAP = (2, 4, 6, 8, 12)


@dataclass
class RealClip:
    name: str
    n_frames: int
    fps: float
    glosses: list[str] | None  # None: no gloss list (an isolated sign, or unknown)
    probs: np.ndarray  # (T, 3) O/I/B probabilities


def is_real_folder(path: str | Path) -> bool:
    """A folder (or single file) of ``.pose`` landmark files: real recordings, no gold labels."""
    p = Path(path)
    if p.is_file():
        return p.suffix.lower() == ".pose"
    return p.is_dir() and any(p.glob("*.pose"))


def pose_files(path: str | Path, half: str | None = None) -> list[Path]:
    """The ``.pose`` files of ``path`` (sorted); ``half`` "even" / "odd" keeps every other one."""
    p = Path(path)
    files = [p] if p.is_file() else sorted(p.glob("*.pose"))
    if half in ("even", "odd"):
        files = files[0 if half == "even" else 1 :: 2]
    return files


def gloss_index(folder: Path) -> dict[str, list[str]]:
    """``index.json`` next to the files: file name -> gloss list (empty dict when absent)."""
    f = folder / "index.json"
    if not f.is_file():
        return {}
    data = json.loads(f.read_text())
    return {k: list(v.get("glosses", [])) for k, v in data.items() if isinstance(v, dict) and v.get("glosses")}


def load_real_clips(path: str | Path, segmenter, half: str | None = None) -> list[RealClip]:
    """Read each file and run FAST once (decoding options are applied later)."""
    from ...io import registry
    from .features import hand_features

    files = pose_files(path, half)
    if not files:
        from ...errors import UserError

        raise UserError(f"{path}: no .pose files")
    folder = files[0].parent
    index = gloss_index(folder)
    seqs = [registry.read(f) for f in files]
    probs = segmenter.probs_many([hand_features(s) for s in seqs], [s.fps for s in seqs])
    return [RealClip(f.name, s.n_frames, float(s.fps), index.get(f.name), p) for f, s, p in zip(files, seqs, probs)]


def score(clips: list[RealClip], options) -> dict[str, Any]:
    """The figures of the module docstring for one set of decoding options."""
    from ..segmentation import decode

    dec = [decode(c.probs, options) for c in clips]
    n = np.array([len(d.segments) for d in dec])
    out: dict[str, Any] = {}
    sent = [i for i, c in enumerate(clips) if c.glosses]
    if sent:
        per = {
            clips[i].name: {
                "segments": int(n[i]),
                "glosses": len(clips[i].glosses),
                "ratio": round(n[i] / len(clips[i].glosses), 3),
            }
            for i in sent
        }
        ratios = np.array([v["ratio"] for v in per.values()])
        out["sentences"] = {
            "files": len(sent),
            "per_file": per,
            "pooled_ratio": round(float(n[sent].sum() / sum(len(clips[i].glosses) for i in sent)), 4),
            "share_in_0.85_1.15": round(float(np.mean((ratios >= 0.85) & (ratios <= 1.15))), 4),
        }
    iso = [i for i, c in enumerate(clips) if not c.glosses and c.n_frames / c.fps <= ISOLATED_MAX_S]
    if iso:
        out["isolated"] = {
            "clips": len(iso),
            "max_seconds": ISOLATED_MAX_S,
            "exactly_one": round(float(np.mean(n[iso] == 1)), 4),
            "none": round(float(np.mean(n[iso] == 0)), 4),
            "mean_found": round(float(n[iso].mean()), 3),
        }
    longer = [i for i, c in enumerate(clips) if not c.glosses and c.n_frames / c.fps > ISOLATED_MAX_S]
    if longer:
        out["longer_clips"] = {"clips": len(longer), "mean_found": round(float(n[longer].mean()), 3)}
    first = np.array([(d.labels[:REST_FRAMES] == 0).all() for d in dec])
    last = np.array([(d.labels[-REST_FRAMES:] == 0).all() for d in dec])
    out["boundary"] = {
        "rest_frames": REST_FRAMES,
        "start_O": round(float(first.mean()), 4),
        "end_O": round(float(last.mean()), 4),
        "both_O": round(float((first & last).mean()), 4),
    }
    out["segments_total"] = int(n.sum())
    return out


def sweep(
    clips: list[RealClip],
    base_options,
    sensitivities=SWEEP_SENSITIVITY,
    min_lengths=SWEEP_MIN_LENGTH,
    merge_gaps=SWEEP_MERGE_GAP,
) -> list[dict[str, Any]]:
    """``score`` over the grid: [{"sensitivity", "min_length", "merge_gap", **score}]."""
    from ..segmentation import DecodeOptions

    rows = []
    for s, m, g in itertools.product(sensitivities, min_lengths, merge_gaps):
        opts = DecodeOptions(s, m, g, base_options.peak_radius)
        rows.append({"sensitivity": s, "min_length": m, "merge_gap": g, **score(clips, opts)})
    return rows


def run(data: str | Path, segmenter, options, half: str | None = None, decode_sweep: bool = False) -> dict[str, Any]:
    """``eval fast`` on a real folder (called by ``core.ml.fast.eval.evaluate``)."""
    clips = load_real_clips(data, segmenter, half)
    out: dict[str, Any] = {
        "data": str(data),
        "kind": "real folder (no frame labels)",
        "half": half or "all",
        "files": len(clips),
        "frames": int(sum(c.n_frames for c in clips)),
        "decode": {
            "sensitivity": options.sensitivity,
            "min_length": options.min_length,
            "merge_gap": options.merge_gap,
            "peak_radius": options.peak_radius,
        },
        **score(clips, options),
    }
    if decode_sweep:
        out["sweep"] = sweep(clips, options)
    return out


def format_text(res: dict[str, Any]) -> str:
    d = res["decode"]
    lines = [
        f"FAST on {res['data']} ({res['files']} files, {res['frames']} frames; half {res['half']}); "
        f"sensitivity {d['sensitivity']}, min length {d['min_length']}, merge gap {d['merge_gap']}"
    ]
    if "sentences" in res:
        s = res["sentences"]
        lines.append(
            f"sentences: segments / glosses pooled {s['pooled_ratio']}, "
            f"{s['share_in_0.85_1.15']:.0%} of files in 0.85-1.15"
        )
        for name, v in s["per_file"].items():
            lines.append(f"  {name}: {v['segments']} segments / {v['glosses']} glosses = {v['ratio']}")
    if "isolated" in res:
        s = res["isolated"]
        lines.append(
            f"isolated clips <= {s['max_seconds']:g} s ({s['clips']}): exactly one sign {s['exactly_one']:.1%}, "
            f"none {s['none']:.1%}, mean found {s['mean_found']}"
        )
    if "longer_clips" in res:
        lines.append(f"longer clips ({res['longer_clips']['clips']}): mean found {res['longer_clips']['mean_found']}")
    b = res["boundary"]
    lines.append(
        f"boundary: first {b['rest_frames']} frames O {b['start_O']:.1%}, last O {b['end_O']:.1%}, "
        f"both {b['both_O']:.1%}"
    )
    return "\n".join(lines)
