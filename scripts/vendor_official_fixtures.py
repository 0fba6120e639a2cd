"""Copy the small official SignSparK fixtures the default tests need into tests/fixtures/official.

    python scripts/vendor_official_fixtures.py SRC [--write-manifest]

SRC is a folder of the official reference outputs (produced by running the official implementation;
see docs/official-checkpoints.md). Each copied file is checked against MANIFEST.sha256, so a changed
reference is noticed; ``--write-manifest`` records the hashes of what SRC holds instead.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

DEST = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "official"
# the tiny checkpoints and their outputs, the data pipeline, the key list, and one full-size
# checkpoint (18 MB: pool views) whose text-encoder placeholders the default suite loads
FILES = (
    "hand_tiny_random.pt",
    "body_tiny_random.pt",
    "hand_tiny_reference.npz",
    "body_tiny_reference.npz",
    "data_reference.npz",
    "state_dict_keys.json",
    "hand_unet_large_random.pt",
)
MANIFEST = DEST / "MANIFEST.sha256"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("src", type=Path)
    p.add_argument("--write-manifest", action="store_true")
    args = p.parse_args(argv)
    missing = [n for n in FILES if not (args.src / n).is_file()]
    if missing:
        print(f"error: {args.src}: missing {', '.join(missing)}", file=sys.stderr)
        return 2
    DEST.mkdir(parents=True, exist_ok=True)
    hashes = {n: sha256(args.src / n) for n in FILES}
    if args.write_manifest:
        MANIFEST.write_text("".join(f"{h}  {n}\n" for n, h in hashes.items()))
    expected = dict(reversed(line.split("  ", 1)) for line in MANIFEST.read_text().split("\n") if line)
    wrong = [n for n in FILES if expected.get(n) != hashes[n]]
    if wrong:
        print(f"error: {args.src}: differs from MANIFEST.sha256: {', '.join(wrong)}", file=sys.stderr)
        return 2
    for n in FILES:
        shutil.copyfile(args.src / n, DEST / n)
    print(f"copied {len(FILES)} files to {DEST}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
