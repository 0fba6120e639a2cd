"""A fuzz worker process: reads ``<format>\\t<path>`` lines on stdin, answers one JSON line per
file on stdout: the reader's outcome (``oracle.read_one``) and what ``python -m core info``
did with it (its exit status and whether stderr was one line naming the file).

Started by ``run.py`` under an address-space limit (``RLIMIT_AS``), so a file that makes a
reader allocate past it ends as a MemoryError or a dead worker, not a frozen machine."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path


def info_outcome(path: Path) -> tuple[int, str]:
    from core import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(["info", str(path)])
        except SystemExit as e:
            rc = int(e.code or 0)
        except MemoryError:
            return 137, "MemoryError"
        except BaseException as e:  # noqa: BLE001 - a traceback is what we count
            return 1, f"traceback {type(e).__name__}: {e}"[:200]
    text = err.getvalue().strip()
    if rc == 2 and ("\n" in text or path.name not in text):
        return rc, f"stderr not one line naming the file: {text[:200]!r}"
    return rc, ""


def main() -> None:
    from tests.fuzz.oracle import read_one

    for line in sys.stdin:
        fmt, _, p = line.rstrip("\n").partition("\t")
        path = Path(p)
        r = read_one(path, fmt)
        rc, info_problem = (0, "") if fmt == "eaf" else info_outcome(path)
        print(
            json.dumps(
                {
                    "outcome": r.outcome,
                    "detail": r.detail,
                    "seconds": r.seconds,
                    "peak": r.peak_bytes,
                    "info_rc": rc,
                    "info_problem": info_problem,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
