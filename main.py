"""Signframe: ``python main.py [FILE] [--screenshot OUT.png] [--smplx DIR]`` (see editor/app.py)."""

import sys

from editor.app import run

if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
