"""The command line: options, and which run they start (the export or --selftest) with its exit status."""
from __future__ import annotations

import argparse
import re
import sys
from typing import Optional, Sequence

from .errors import EXIT_FAILED, EXIT_MISSING_DEPENDENCIES, ExportError, MissingDependencies
from .export import run_export
from .ort_checks import DEFAULT_FP16_ATOL
from .selftest import run_selftest


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The options (README "Options"); a bad command line exits with status 2 and argparse's message."""
    p = argparse.ArgumentParser(
        prog="export_audioldm.py",
        description="Export an AudioLDM v1 checkpoint (diffusers) to a Tessera model pack: four ONNX graphs "
                    "(opset 17), tokenizer.json and manifest.json. Needs PyTorch and the packages of requirements.txt, "
                    "and internet access for the download (once).",
        epilog="Examples:\n"
               "  python3 export_audioldm.py --model s-full-v2 --out packs/audioldm-s-full-v2\n"
               "  python3 export_audioldm.py --model l-full --fp16 --device cuda --out packs/audioldm-l-full-fp16\n"
               "Then: npm run models -- import <out>.  Weights: CC BY-NC-SA 4.0 (non-commercial). See README.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="s-full-v2", metavar="MODEL",
                   help="s-full-v2, m-full, l-full (cvssp/audioldm-…), another hub repo id (owner/name) or a local "
                        "diffusers checkpoint folder (default: s-full-v2)")
    p.add_argument("--out", metavar="DIR", help="pack folder to write (created; required unless --selftest)")
    p.add_argument("--revision", help="hub revision (branch, tag or commit) to export; default: the main branch")
    p.add_argument("--fp16", action="store_true",
                   help="convert the UNet to float16 (GroupNorm/LayerNorm/Softmax and the timestep embedding stay "
                        "float32; I/O stays float32) with onnxruntime.transformers.float16; the other graphs stay "
                        "float32")
    p.add_argument("--device", default="cpu", help="PyTorch device for tracing and the reference outputs: cpu, cuda, "
                                                    "cuda:1, mps (default: cpu)")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                   help="compare every graph with PyTorch on random inputs in ONNX Runtime and stop before the "
                        "manifest if one is over its tolerance (default: on). --no-check skips only this comparison: "
                        "every graph is still opened in ONNX Runtime and checked against the manifest")
    p.add_argument("--atol", type=float, metavar="X",
                   help="max |ONNX − PyTorch| allowed for every float32 graph (default per graph: text encoder 1e-4, "
                        "UNet 1e-3, VAE decoder 2e-3, vocoder 1e-3)")
    p.add_argument("--fp16-atol", type=float, default=DEFAULT_FP16_ATOL, metavar="X",
                   help=f"max |ONNX − PyTorch fp32| for the fp16 UNet (default {DEFAULT_FP16_ATOL})")
    p.add_argument("--heads", choices=["original", "diffusers"], default="original",
                   help="attention head split of the UNet (README, 'Attention heads'): 'original' = AudioLDM's own "
                        "code (32 channels per head, 64 for L), 'diffusers' = diffusers' 8 heads per level "
                        "(default: original)")
    p.add_argument("--head-channels", type=int, metavar="N",
                   help="channels per head for --heads original (default: 32 for S/M, 64 for L)")
    p.add_argument("--probe-heads", action=argparse.BooleanOptionalAction, default=True,
                   help="with --check, compare both head splits' noise prediction on synthetic audio and warn if the "
                        "other split does better (default: on)")
    p.add_argument("--ort-device", choices=["cpu", "cuda"], default="cpu",
                   help="ONNX Runtime provider for the check (cuda needs onnxruntime-gpu; default: cpu)")
    p.add_argument("--pack-id", metavar="ID", help="manifest id (default: the repo name, '-fp16' appended with --fp16)")
    p.add_argument("--selftest", action="store_true",
                   help="no export: build a manifest from built-in copies of the --model configs, run the pure-Python "
                        "checks and print JSON (needs no third-party package)")
    args = p.parse_args(argv)
    if not args.selftest and not args.out:
        p.error("--out DIR is required (or --selftest)")
    if args.pack_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", args.pack_id):
        p.error("--pack-id must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    if args.head_channels is not None and args.head_channels < 1:
        p.error("--head-channels must be ≥ 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the export or --selftest; an ExportError is printed without a traceback and becomes the exit status."""
    args = parse_args(argv)
    try:
        return run_selftest(args) if args.selftest else run_export(args)
    except MissingDependencies as e:
        print(f"export_audioldm: {e}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCIES
    except (ExportError, AssertionError) as e:
        print(f"export_audioldm: {e}", file=sys.stderr)
        return EXIT_FAILED
