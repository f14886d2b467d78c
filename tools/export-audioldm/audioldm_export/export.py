"""
run_export: the export as numbered steps, in the order they run; each step's function follows it in this file.
A step that finds a problem raises ExportError (exit 1) or MissingDependencies (exit 3). manifest.json is written by
the last step only, so a folder can be imported only when every graph loaded and (with --check) passed its checks.
"""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .checkpoint import (config_dicts, default_pack_id, fetch_checkpoint, load_checkpoint, require_dependencies,
                         resolve_model, set_classic_attention)
from .console import log
from .constants import (EXPORTER_VERSION, FILES, LICENCE_FILE, LICENCE_NAME, LICENCE_URL, MANIFEST_FILE, REPORT_FILE,
                        TOKENIZER_FILE)
from .errors import EXIT_OK, ExportError
from .external_data import external_data_files, graph_external_refs
from .feeds import example_inputs, random_feeds
from .fp16 import fp16_converter
from .graph_export import TRACE_SHAPES, export_graph, finalize_graph, verify_signature
from .head_probe import head_probe_verdict, probe_heads
from .heads import (attention_layout, attention_levels, default_head_channels, diffusers_head_split,
                    original_head_split, unet_with_heads)
from .manifest import build_manifest, pack_hashes, write_manifest
from .manifest_schema import validate_manifest
from .ort_checks import (DEFAULT_ATOL, check_cases, check_pack_loads, check_tokenizer, compare_outputs,
                         load_failure_message, ort_session, print_check_table)
from .wrappers import make_wrappers


def run_export(args: argparse.Namespace) -> int:
    """Exports the checkpoint `--model` names into the pack folder `--out` (README "Step by step"); EXIT_OK."""
    # 1. The packages, before any download or tracing: the export's dependencies and, with --fp16, ONNX Runtime's
    #    float16 converter.
    versions = check_packages(args.fp16)
    started = time.time()

    # 2. The checkpoint --model names, and the pack folder without the manifest of an earlier run.
    source, is_local = resolve_model(args.model)
    out = prepare_pack_folder(args.out)

    # 3. The checkpoint in PyTorch: downloaded once into the Hugging Face cache, loaded in float32 with full-precision
    #    float32 math for the reference outputs.
    full_precision_torch()
    folder, revision = fetch_checkpoint(source, is_local, args.revision)
    log(f"loading {folder}")
    parts = load_checkpoint(folder, args.device)
    configs = config_dicts(parts)

    # 4. The attention-head split to export (research §7.7), and the UNet variant(s) it and the head probe need.
    heads = choose_heads(args, parts, configs)

    # 5. A draft manifest from the configs: the checkpoint must fit the audioldm contract before any time is spent
    #    tracing; it also gives each graph's tensor specs.
    pack_id = args.pack_id or default_pack_id(source, args.fp16)
    draft, specs = draft_manifest(configs, source, revision, pack_id, args.fp16, heads)

    # 6. The four modules to export, each one step of diffusers' AudioLDMPipeline, and what every graph records.
    modules = wrap_modules(parts, heads.unet, configs)
    tok = parts["tokenizer"]
    vocab = (int(configs["text_encoder"].get("vocab_size", len(tok))), int(tok.pad_token_id), 4)
    metadata = {"tessera.source": source, "tessera.revision": revision, "tessera.exporter": EXPORTER_VERSION,
                "tessera.licence": f"{LICENCE_NAME} {LICENCE_URL}", "tessera.attention_heads": args.heads}

    work = Path(tempfile.mkdtemp(prefix=".export-tmp-", dir=str(out)))
    report: Dict[str, Any] = {"source": source, "revision": revision, "exporter": EXPORTER_VERSION,
                              "versions": versions,
                              "heads": {"exported": args.heads, "headChannels": heads.head_channels, **heads.split},
                              "checks": []}
    try:
        # 7. Each graph: traced, finalized (fp16 UNet, external data above 2 GB), its signature verified, its external
        #    weight files listed.
        written, external = export_graphs(modules, specs, out, work, fp16=args.fp16, device=args.device, vocab=vocab,
                                          metadata=metadata)

        # 8. tokenizer.json: the checkpoint's fast tokenizer, truncating at the manifest's maxLength, no padding.
        save_tokenizer(tok, out / TOKENIZER_FILE, int(draft["tokenizer"]["maxLength"]))

        # 9. Every graph opens in ONNX Runtime with the manifest's tensors, with or without --check.
        check_graphs_load(out, specs, report, args.fp16)

        if args.check:
            # 10. Every graph against its PyTorch module on random inputs; tokenizer.json against transformers.
            rows = compare_with_pytorch(modules, specs, draft, out, tok, vocab, args)
            report["checks"] = rows

            # 11. The head probe, when the two splits differ (evidence only: it never fails an export).
            if heads.probing:
                report["headProbe"] = run_head_probe(parts, heads, configs["scheduler"], args.device)
            stop_on_failed_checks(rows, out, report)
        else:
            log("WARNING: --no-check: the graphs load in ONNX Runtime but were not compared with PyTorch")

        # 12. The manifest, last: every file's sha256, LICENCE.txt, export-report.json, then manifest.json.
        manifest = build_manifest(configs, pack_hashes(out, external), source=source, revision=revision,
                                  pack_id=pack_id, fp16=args.fp16, heads_mode=args.heads, heads=heads.heads,
                                  head_channels=heads.head_channels, external_data=external)
        problems = validate_manifest(manifest)
        if problems:
            raise ExportError("manifest invalid:\n  - " + "\n  - ".join(problems))
        (out / LICENCE_FILE).write_text(manifest["licence"]["text"])
        report["files"] = {p.name: p.stat().st_size for paths in written.values() for p in paths}
        report["seconds"] = round(time.time() - started, 1)
        write_report(out, report)
        write_manifest(out, manifest)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # 13. What was written and how to import it.
    external_files = [f for files in external.values() for f in files]
    log(f"done in {time.time() - started:.0f} s: {out}")
    if external_files:
        log(f"note: {', '.join(external_files)} hold(s) external weights: keep them beside their .onnx file")
    log(f"import into Tessera with:  npm run models -- import {out}")
    return EXIT_OK


# ── 1. packages ────────────────────────────────────────────────────────────────────────────────────────────────────


def check_packages(fp16: bool) -> Dict[str, str]:
    """Step 1: imports the export's dependencies (and ONNX Runtime's float16 converter with --fp16); their versions."""
    versions = require_dependencies()
    if fp16:
        fp16_converter()  # before any download or tracing
    return versions


# ── 2. pack folder ─────────────────────────────────────────────────────────────────────────────────────────────────


def prepare_pack_folder(out_arg: str) -> Path:
    """Step 2: creates the pack folder `--out` names and removes an old manifest.json from it; the folder's path."""
    out = Path(out_arg).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST_FILE
    if manifest_path.exists():
        manifest_path.unlink()  # a failed run must not leave an old manifest beside new graphs
    return out


# ── 3. checkpoint ──────────────────────────────────────────────────────────────────────────────────────────────────


def full_precision_torch() -> None:
    """Step 3: no TF32 and no autograd, so the references the check compares with are full float32."""
    import torch

    torch.backends.cudnn.allow_tf32 = False  # full fp32 references for the check
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_grad_enabled(False)


# ── 4. attention heads ─────────────────────────────────────────────────────────────────────────────────────────────


@dataclass
class HeadChoice:
    """The attention-head split to export (research §7.7) and the UNet variants kept in memory."""

    mode: str
    """`--heads`: 'original' or 'diffusers'."""
    head_channels: int
    """Channels per head of the original split."""
    split: Dict[str, List[int]]
    """Heads per level of each split, by name."""
    unets: Dict[str, Any]
    """UNet by split: the exported one, and the other one too when probing."""
    probing: bool
    """Whether the head probe runs (--check, --probe-heads and splits that differ)."""

    @property
    def heads(self) -> List[int]:
        """Heads per level of the exported split."""
        return self.split[self.mode]

    @property
    def unet(self) -> Any:
        """The UNet to export."""
        return self.unets[self.mode]


def choose_heads(args: argparse.Namespace, parts: Dict[str, Any], configs: Dict[str, Dict[str, Any]]) -> HeadChoice:
    """
    Step 4: both head splits from the UNet config; the UNet with the exported split (rebuilt with the same weights for
    'original'), plus the other one when probing; matmul-softmax attention in the UNets and the VAE (research §7.2).
    Takes the UNet out of `parts`. Refuses a rebuilt UNet whose layers do not have the expected channels per head.
    """
    unet_cfg = configs["unet"]
    block = list(unet_cfg["block_out_channels"])
    head_channels = args.head_channels or default_head_channels(block)
    split = {"original": original_head_split(block, head_channels), "diffusers": diffusers_head_split(unet_cfg)}
    levels = attention_levels(unet_cfg)
    log(f"attention heads per level {levels}: original {[split['original'][i] for i in levels]}, diffusers "
        f"{[split['diffusers'][i] for i in levels]}; exporting '{args.heads}' (research §7.7)")
    probing = args.check and args.probe_heads and split["original"] != split["diffusers"]
    unets = {"diffusers": parts.pop("unet")}
    if args.heads == "original" or probing:
        same = split["original"] == split["diffusers"]
        unets["original"] = unets["diffusers"] if same else unet_with_heads(unets["diffusers"], split["original"])
    if not probing:  # keep only the exported variant in memory
        unets = {args.heads: unets[args.heads]}
    set_classic_attention(parts["vae"], *unets.values())
    unet = unets[args.heads]
    for path, h, per_head in attention_layout(unet):
        want = head_channels if args.heads == "original" else None
        if want is not None and per_head != want:
            raise ExportError(f"{path}: {h} heads of {per_head} channels, expected {want} channels per head")
    return HeadChoice(mode=args.heads, head_channels=head_channels, split=split, unets=unets, probing=bool(probing))


# ── 5. draft manifest ──────────────────────────────────────────────────────────────────────────────────────────────


def draft_manifest(configs: Dict[str, Dict[str, Any]], source: str, revision: str, pack_id: str, fp16: bool,
                   heads: HeadChoice) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """Step 5: the manifest with placeholder hashes, checked by the schema mirror, and each graph's tensor specs."""
    placeholder = {f: "0" * 64 for f in [TOKENIZER_FILE, *FILES.values()]}
    draft = build_manifest(configs, placeholder, source=source, revision=revision, pack_id=pack_id, fp16=fp16,
                           heads_mode=heads.mode, heads=heads.heads, head_channels=heads.head_channels)
    problems = validate_manifest(draft)
    if problems:
        raise ExportError("the manifest would be invalid:\n  - " + "\n  - ".join(problems))
    specs = {k: {"inputs": draft["components"][k]["inputs"], "outputs": draft["components"][k]["outputs"]}
             for k in FILES}
    return draft, specs


# ── 6. modules ─────────────────────────────────────────────────────────────────────────────────────────────────────


def wrap_modules(parts: Dict[str, Any], unet: Any, configs: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    """Step 6: the four export modules by manifest component, in eval mode, in the order the graphs are written."""
    wrappers = make_wrappers()
    return {
        "textEncoder": wrappers["textEncoder"](parts["text_encoder"]).eval(),
        "unet": wrappers["unet"](unet).eval(),
        "vaeDecoder": wrappers["vaeDecoder"](parts["vae"], float(configs["vae"]["scaling_factor"])).eval(),
        "vocoder": wrappers["vocoder"](parts["vocoder"]).eval(),
    }


# ── 7. graphs ──────────────────────────────────────────────────────────────────────────────────────────────────────


def export_graphs(modules: Dict[str, Any], specs: Dict[str, Dict[str, Any]], out: Path, work: Path, *, fp16: bool,
                  device: str, vocab: Tuple[int, int, int],
                  metadata: Dict[str, str]) -> Tuple[Dict[str, List[Path]], Dict[str, List[str]]]:
    """
    Step 7: each module traced into `work`, finalized into `out`, its signature verified and its external weight files
    checked on disk. Returns (files written, external weight files) by component.
    """
    written: Dict[str, List[Path]] = {}
    external: Dict[str, List[str]] = {}
    for key, module in modules.items():
        t0 = time.time()
        raw_dir = work / key
        raw_dir.mkdir()
        raw = raw_dir / FILES[key]
        log(f"exporting {FILES[key]} (trace at {TRACE_SHAPES[key]})")
        export_graph(module, example_inputs(key, specs[key], TRACE_SHAPES[key], device, vocab), raw, specs[key])
        written[key] = finalize_graph(raw, out / FILES[key], fp16=fp16 and key == "unet", metadata=metadata)
        shutil.rmtree(raw_dir)
        verify_signature(out / FILES[key], specs[key])
        external[key] = external_data_files(graph_external_refs(out / FILES[key]), FILES[key])
        missing = [f for f in external[key] if not (out / f).is_file()]
        if missing:
            raise ExportError(f"{FILES[key]} refers to external data {', '.join(missing)} that is not in {out}; "
                              "the save did not complete (disk full?): free disk space and run the export again")
        size = sum(p.stat().st_size for p in written[key])
        log(f"  wrote {', '.join(p.name for p in written[key])} ({size / 1e6:.1f} MB, {time.time() - t0:.0f} s)")
    return written, external


# ── 8. tokenizer ───────────────────────────────────────────────────────────────────────────────────────────────────


def save_tokenizer(tok: Any, path: Path, max_length: int) -> None:
    """Step 8: the fast tokenizer's tokenizer.json, without padding and truncating at `max_length` as Tessera does."""
    backend = tok.backend_tokenizer
    backend.no_padding()
    backend.enable_truncation(max_length=max_length)
    backend.save(str(path))


# ── 9. every graph loads ───────────────────────────────────────────────────────────────────────────────────────────


def check_graphs_load(out: Path, specs: Dict[str, Dict[str, Any]], report: Dict[str, Any], fp16: bool) -> None:
    """
    Step 9: a pack is never reported done (or given a manifest) when Tessera could not load it. CPU provider: what
    Tessera runs on. A failure writes the report (its errors under `load`) and stops the export.
    """
    log("opening every graph in ONNX Runtime (CPU) …")
    load_problems = check_pack_loads([(FILES[k], out / FILES[k], specs[k]) for k in FILES],
                                     lambda path: ort_session(path, "cpu"))
    report["load"] = load_problems or "ok"
    if load_problems:
        write_report(out, report)
        raise ExportError(load_failure_message(load_problems, str(out), fp16))
    log("  all four graphs load and match the manifest")


# ── 10. ONNX Runtime against PyTorch ───────────────────────────────────────────────────────────────────────────────


def compare_with_pytorch(modules: Dict[str, Any], specs: Dict[str, Dict[str, Any]], draft: Dict[str, Any], out: Path,
                         tok: Any, vocab: Tuple[int, int, int], args: argparse.Namespace) -> List[Dict[str, Any]]:
    """
    Step 10: every graph in ONNX Runtime (`--ort-device`) against its module at the shapes of check_cases, the
    vocoder's length against the manifest, tokenizer.json against transformers; prints the table, returns its rows.
    """
    import numpy as np

    rows: List[Dict[str, Any]] = []
    rng = np.random.default_rng(20240601)
    for key, module in modules.items():
        session = ort_session(out / FILES[key], args.ort_device)
        fp16 = args.fp16 and key == "unet"
        tol = args.fp16_atol if fp16 else (args.atol if args.atol is not None else DEFAULT_ATOL[key])
        for case, sizes, t in check_cases(key):
            feeds = random_feeds(key, specs[key], sizes, rng, vocab, timestep=t)
            row = compare_outputs(FILES[key], case, module, session, feeds, args.device, tol)
            if key == "vocoder" and row.get("ok"):
                want = draft["mel"]["hop"] * sizes["F"] + draft["mel"]["vocoderExtraSamples"]
                if row["shape"][1] != want:
                    row.update(ok=False, error=f"{row['shape'][1]} samples, the manifest says {want}")
            rows.append(row)
        del session
    rows.append(check_tokenizer(tok, out / TOKENIZER_FILE, int(draft["tokenizer"]["maxLength"])))
    print_check_table(rows)
    return rows


def stop_on_failed_checks(rows: List[Dict[str, Any]], out: Path, report: Dict[str, Any]) -> None:
    """After step 11: any failed row writes the report and stops the export without a manifest."""
    failed = [r for r in rows if not r["ok"]]
    if failed:
        write_report(out, report)
        raise ExportError(
            f"{len(failed)} check(s) failed (see the table and {REPORT_FILE}); manifest.json was NOT written. "
            "Raise the tolerance with --atol / --fp16-atol only if the errors are understood."
        )


# ── 11. head probe ─────────────────────────────────────────────────────────────────────────────────────────────────


def run_head_probe(parts: Dict[str, Any], heads: HeadChoice, scheduler: Dict[str, Any], device: str) -> Dict[str, Any]:
    """
    Step 11: probe_heads and its verdict, printed; the report's `headProbe`. A probe that fails is reported and
    ignored: it is evidence only and never blocks an export that passed its checks.
    """
    log("probing the attention-head split on synthetic audio (research §7.7) …")
    try:
        probe = probe_heads(parts, heads.unets, scheduler, device)
        for r in probe["rows"]:
            log(f"  t={r['t']:>4}  ε-MSE original {r['original']:.5f}  diffusers {r['diffusers']:.5f}")
        verdict = probe["verdict"] = head_probe_verdict(probe["meanMse"], heads.mode)
        log(verdict["message"] if verdict["advise"] else f"  {verdict['message']}")
        return probe
    except Exception as e:  # evidence only: never blocks an export that passed its checks
        log(f"WARNING: head probe failed ({type(e).__name__}: {e}); the export is unaffected")
        return {"error": f"{type(e).__name__}: {e}"}


# ── the report ─────────────────────────────────────────────────────────────────────────────────────────────────────


def write_report(out: Path, report: Dict[str, Any]) -> None:
    """export-report.json: written on every failure after step 9 and at the end, for inspection and bug reports."""
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
