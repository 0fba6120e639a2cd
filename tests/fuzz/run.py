"""The reader fuzz driver: mutants of every format's seeds through worker processes, with a
time limit per file and an address-space limit per worker; prints the per-format table.

``python -m tests.fuzz.run --per-format 1000`` is the long run (``-m fuzz`` runs it too)."""

from __future__ import annotations

import argparse
import json
import os
import resource
import select
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .mutate import mutant
from .oracle import OUTCOMES
from .seeds import FORMATS, SUFFIX, make_seeds

ROOT = Path(__file__).resolve().parents[2]
TIME_LIMIT_S = 10.0
MEMORY_LIMIT = 2**30  # 1 GiB of address space per worker: `info` on any file fits in it


@dataclass
class Tally:
    counts: Counter = field(default_factory=Counter)
    info_bad: int = 0  # `info` exited with something other than 0 / 2-with-one-line
    slowest: float = 0.0
    peak: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def add(self, outcome: str, detail: str, name: str) -> None:
        self.counts[outcome] += 1
        if outcome not in ("ok", "error"):
            self.examples.setdefault(outcome, [])
            if len(self.examples[outcome]) < 3:
                self.examples[outcome].append(f"{name}: {detail}")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


class Worker:
    def __init__(self) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.fuzz.worker"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
            preexec_fn=_limit_memory,
        )

    def ask(self, fmt: str, path: Path, timeout: float) -> dict | str:
        """The worker's answer, or "hang" / "died" (the worker is then gone)."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.proc.stdin.write(f"{fmt}\t{path}\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return "died"
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.kill()
            return "hang"
        line = self.proc.stdout.readline()
        if not line:
            self.kill()
            return "died"
        return json.loads(line)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()


def run(
    per_format: int | dict[str, int], seed: int = 0, formats=FORMATS, time_limit: float = TIME_LIMIT_S
) -> dict[str, Tally]:
    """Mutants of each format's seeds through a worker; ``per_format``: a count, or one per format."""
    rng = np.random.default_rng(seed)
    out: dict[str, Tally] = {}
    with tempfile.TemporaryDirectory(prefix="signframe-fuzz-") as d:
        folder = Path(d)
        seeds = make_seeds(folder / "seeds")
        worker = Worker()
        # the first answer pays the imports (pose-format, scipy): not counted against the limit
        warm = worker.ask("bvh", seeds["bvh"][0], 120.0)
        assert isinstance(warm, dict), warm
        for fmt in formats:
            tally = out.setdefault(fmt, Tally())
            blobs = [p.read_bytes() for p in seeds[fmt]]
            n = per_format if isinstance(per_format, int) else per_format.get(fmt, 0)
            for i in range(n):
                data = mutant(blobs[i % len(blobs)], fmt, rng)
                path = folder / f"m{i}{SUFFIX[fmt]}"
                path.write_bytes(data)
                t0 = time.perf_counter()
                ans = worker.ask(fmt, path, time_limit)
                tally.slowest = max(tally.slowest, time.perf_counter() - t0)
                if isinstance(ans, str):
                    tally.add("hang" if ans == "hang" else "overcap", ans, path.name)
                    keep = folder / "kept"
                    keep.mkdir(exist_ok=True)
                    (keep / f"{fmt}-{ans}-{i}{SUFFIX[fmt]}").write_bytes(data)
                    worker = Worker()
                else:
                    tally.add(ans["outcome"], ans["detail"], path.name)
                    tally.peak = max(tally.peak, int(ans["peak"]))
                    if ans["info_rc"] not in (0, 2) or ans["info_problem"]:
                        tally.info_bad += 1
                        tally.add("info", f"rc {ans['info_rc']} {ans['info_problem']}", path.name)
                        tally.counts["info"] -= 1
                path.unlink()
        worker.close()
    return out


def table(results: dict[str, Tally]) -> str:
    head = [
        "format",
        "mutants",
        "ok",
        "error",
        "tracebacks",
        "caught bugs",
        "hangs >10s",
        "over cap",
        "garbage",
        "bad lines",
        "info bad",
        "slowest s",
        "peak MiB",
    ]
    rows = [head]
    for fmt, t in results.items():
        c = t.counts
        rows.append(
            [
                fmt,
                str(sum(c[o] for o in OUTCOMES)),
                str(c["ok"]),
                str(c["error"]),
                str(c["traceback"]),
                str(c["bug"]),
                str(c["hang"]),
                str(c["overcap"]),
                str(c["garbage"]),
                str(c["badline"]),
                str(t.info_bad),
                f"{t.slowest:.2f}",
                f"{t.peak / 2**20:.0f}",
            ]
        )
    w = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["| " + " | ".join(x.ljust(w[i]) for i, x in enumerate(r)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (n + 2) for n in w) + "|")
    for fmt, t in results.items():
        for k, ex in t.examples.items():
            lines.append(f"  {fmt} {k}: " + " / ".join(ex))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-format", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--formats", default=",".join(FORMATS))
    a = ap.parse_args(argv)
    t0 = time.perf_counter()
    res = run(a.per_format, a.seed, tuple(a.formats.split(",")))
    print(table(res))
    print(f"{time.perf_counter() - t0:.0f} s")
    bad = sum(t.counts[o] for t in res.values() for o in ("traceback", "hang", "overcap", "garbage", "badline"))
    return 1 if bad or any(t.info_bad for t in res.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
