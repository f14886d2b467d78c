#!/usr/bin/env python3
"""
Export an AudioLDM v1 checkpoint (diffusers format) to a Tessera model pack.

    python3 export_audioldm.py --model s-full-v2 --out ~/tessera-packs/audioldm-s-full-v2

The command of the audioldm_export package beside this file, which does the work (README.md: how to run it, what it
writes and checks, and what each module holds). The package imports only the standard library at module level, so
`--help` and `--selftest` need no third-party package.
"""
import os
import sys

# The tool runs inside the Tessera checkout: leave no __pycache__ folders in it.
sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # `python3 -P` and PYTHONSAFEPATH leave the script's folder off the import path
    sys.path.insert(0, HERE)

from audioldm_export.cli import main  # noqa: E402  (after the path fix above)

if __name__ == "__main__":
    sys.exit(main())
