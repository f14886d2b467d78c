"""
The checks in ONNX Runtime: every graph loads with the manifest's tensors (with or without --check), and with --check
each graph matches its PyTorch module and tokenizer.json matches transformers. onnxruntime is imported when opened.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from .console import log
from .constants import FILES, MANIFEST_FILE, REPORT_FILE, REQUIREMENTS_FILE
from .specs import compare_signature

# Tolerances (max |ONNX − PyTorch|, fp32) per graph. research §7.8 suggests atol 1e-4 for text_embeds and 1e-3 for
# the vocoder; the UNet's ε is O(1) and the VAE's log-mel spans about −11.5…+3, so they get 1e-3 and 2e-3.
DEFAULT_ATOL = {"textEncoder": 1e-4, "unet": 1e-3, "vaeDecoder": 2e-3, "vocoder": 1e-3}
DEFAULT_FP16_ATOL = 0.1
# ONNX Runtime's NodeArg.type strings → manifest tensor types.
ORT_TYPES = {"tensor(float)": "float32", "tensor(int32)": "int32", "tensor(int64)": "int64", "tensor(bool)": "bool",
             "tensor(float16)": "float16", "tensor(double)": "float64"}


def session_signature(session: Any) -> Dict[str, List[Tuple[str, str, List[Any]]]]:
    """[(name, type, dims)] of an ONNX Runtime session's inputs and outputs for compare_signature (None dim → '?')."""
    def side(args: Any) -> List[Tuple[str, str, List[Any]]]:
        return [(a.name, ORT_TYPES.get(a.type, a.type), [d if isinstance(d, (int, str)) else "?" for d in a.shape])
                for a in args]

    return {"inputs": side(session.get_inputs()), "outputs": side(session.get_outputs())}


def check_pack_loads(graphs: Sequence[Tuple[str, Any, Dict[str, Any]]],
                     open_session: Callable[[Any], Any]) -> List[str]:
    """
    Opens every graph as Tessera will, through `open_session(path)` (an ONNX Runtime InferenceSession in the export, a
    stand-in in --selftest), and compares its inputs and outputs with the manifest specs. `graphs` = [(file, path,
    specs)]. Returns one line per problem, each naming the graph; empty when every graph loads and matches.
    """
    problems = []
    for file, path, specs in graphs:
        try:
            session = open_session(path)
        except Exception as e:  # ONNX Runtime raises its own Fail/InvalidGraph/… classes; their text is the diagnosis
            problems.append(f"{file}: ONNX Runtime refuses to load it: {type(e).__name__}: {str(e).strip()}")
            continue
        mismatches = compare_signature(specs, session_signature(session))
        problems += [f"{file}: {p} (as loaded by ONNX Runtime)" for p in mismatches]
        del session
    return problems


def load_failure_message(problems: Sequence[str], out: str, fp16: bool) -> str:
    """The error when ONNX Runtime cannot load graphs: each graph with ORT's error, what is left, what to do."""
    advice = []
    if fp16 and any(p.startswith(FILES["unet"]) for p in problems):
        advice.append("export without --fp16 (the float32 UNet needs no conversion)")
    requirements = REQUIREMENTS_FILE
    advice.append(f"install the packages of requirements.txt (pip install -r {requirements}) and run the export again")
    advice.append(f"if the error stays, report it with {REPORT_FILE}")
    return (
        f"ONNX Runtime cannot use {len(problems)} graph(s) of the pack:\n  - " + "\n  - ".join(problems) + "\n"
        f"{MANIFEST_FILE} was NOT written, so Tessera will not import {out}; the graphs stay there for inspection and "
        f"{REPORT_FILE} lists these errors. What to do: " + "; ".join(advice) + "."
    )


def ort_session(path: Path, ort_device: str) -> Any:
    """An ONNX Runtime session of `path`, warnings silenced, on CPU or (`cuda`) CUDA with CPU fallback."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if ort_device == "cuda":
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), options, providers=providers)


def check_cases(key: str) -> List[Tuple[str, Dict[str, int], Optional[float]]]:
    """Shapes each graph is checked at: at least one differs from the trace in every dynamic axis (research §7.1)."""
    if key == "textEncoder":
        return [("B=2 S=16", {"B": 2, "S": 16}, None), ("B=3 S=37", {"B": 3, "S": 37}, None)]
    if key == "unet":
        return [("N=2 T=64 t=901", {"N": 2, "T": 64}, 901.0), ("N=1 T=256 t=1", {"N": 1, "T": 256}, 1.0),
                ("N=4 T=32 t=500", {"N": 4, "T": 32}, 500.0)]
    if key == "vaeDecoder":
        return [("B=1 T=16", {"B": 1, "T": 16}, None), ("B=2 T=64", {"B": 2, "T": 64}, None)]
    return [("B=1 F=64", {"B": 1, "F": 64}, None), ("B=2 F=300", {"B": 2, "F": 300}, None)]


def compare_outputs(graph: str, case: str, module: Any, session: Any, feeds: Dict[str, Any], device: str, tol: float) -> Dict[str, Any]:
    """One random input through PyTorch and ONNX Runtime: max |Δ|, relative RMS, finiteness."""
    import numpy as np
    import torch

    with torch.no_grad():
        ref = module(*[torch.from_numpy(v).to(device) for v in feeds.values()])
    ref = ref.detach().float().cpu().numpy().astype(np.float64)
    got = session.run(None, feeds)[0].astype(np.float64)
    row: Dict[str, Any] = {"graph": graph, "case": case, "shape": list(got.shape), "tol": tol}
    if got.shape != ref.shape:
        row.update(ok=False, error=f"shape {list(got.shape)} ≠ PyTorch {list(ref.shape)}")
        return row
    err = np.abs(got - ref)
    row.update(
        maxAbsErr=float(err.max()),
        maxAbsRef=float(np.abs(ref).max()),
        relRms=float(np.sqrt(np.mean(err ** 2)) / max(float(np.sqrt(np.mean(ref ** 2))), 1e-30)),
        ok=bool(np.isfinite(got).all() and float(err.max()) <= tol),
    )
    return row


def check_tokenizer(tokenizer: Any, path: Path, max_length: int) -> Dict[str, Any]:
    """tokenizer.json (as Tessera's @huggingface/tokenizers reads it) gives the ids transformers gives."""
    from tokenizers import Tokenizer

    saved = Tokenizer.from_file(str(path))
    texts = ["", "A hammer is hitting a wooden surface", "  rain on a tin roof, distant THUNDER!  ",
             "Ümlaut café — 日本語 🎵 test", "dog barking " * 300]
    mismatches = []
    for text in texts:
        want = tokenizer(text, truncation=True, max_length=max_length)["input_ids"]
        got = saved.encode(text).ids
        if list(want) != list(got):
            mismatches.append(f"{text[:30]!r}: transformers {list(want)[:8]}… vs tokenizer.json {list(got)[:8]}…")
    empty = saved.encode("").ids
    if empty != [tokenizer.bos_token_id, tokenizer.eos_token_id]:
        mismatches.append(f"'' encodes to {empty}, expected [<s>, </s>] (research §3.1)")
    return {"graph": "tokenizer", "case": f"{len(texts)} texts", "ok": not mismatches, "error": "; ".join(mismatches) or None}


def print_check_table(rows: List[Dict[str, Any]]) -> None:
    """The check table: max |Δ|, max |ref|, relative RMS, tolerance and result of each row."""
    log(f"{'graph':<12} {'case':<18} {'max|Δ|':>10} {'max|ref|':>10} {'rel rms':>10} {'tol':>8}  result")
    for r in rows:
        if "maxAbsErr" in r:
            log(f"{r['graph']:<12} {r['case']:<18} {r['maxAbsErr']:>10.3e} {r['maxAbsRef']:>10.3e} {r['relRms']:>10.3e} "
                f"{r['tol']:>8.1e}  {'ok' if r['ok'] else 'FAIL'}")
        else:
            log(f"{r['graph']:<12} {r['case']:<18} {'':>10} {'':>10} {'':>10} {'':>8}  {'ok' if r['ok'] else 'FAIL'}"
                + (f"  {r['error']}" if r.get("error") else ""))
