"""
The four graphs' tensors (research §3) as the manifest declares them, and the comparison of a graph's actual inputs
and outputs with them (the check Tessera runs when it opens a session).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple


def spec(name: str, type_: str, dims: Sequence[Any]) -> Dict[str, Any]:
    """One tensor of a manifest component: name, type and dims (ints or symbolic names)."""
    return {"name": name, "type": type_, "dims": list(dims)}


def tensor_specs(text_dim: int, latent_channels: int, latent_bins: int, mel_bins: int) -> Dict[str, Dict[str, List[Dict[str, Any]]]]:
    """
    Inputs and outputs of the four graphs (research §3). Symbolic dims: B batch, S tokens, N UNet rows (2B with CFG),
    T latent frames, F = 4T mel frames, L = 160·F + 32 samples. The same names as the built-in packs
    (src-main/packs/sketch/index.ts) so every pack of the family reads alike.
    """
    return {
        "textEncoder": {
            "inputs": [spec("input_ids", "int64", ["B", "S"]), spec("attention_mask", "int64", ["B", "S"])],
            "outputs": [spec("text_embeds", "float32", ["B", text_dim])],
        },
        "unet": {
            "inputs": [
                spec("sample", "float32", ["N", latent_channels, "T", latent_bins]),
                spec("timestep", "float32", ["N"]),
                spec("class_labels", "float32", ["N", text_dim]),
            ],
            "outputs": [spec("noise_pred", "float32", ["N", latent_channels, "T", latent_bins])],
        },
        "vaeDecoder": {
            "inputs": [spec("latent", "float32", ["B", latent_channels, "T", latent_bins])],
            "outputs": [spec("mel", "float32", ["B", 1, "F", mel_bins])],
        },
        "vocoder": {
            "inputs": [spec("mel", "float32", ["B", "F", mel_bins])],
            "outputs": [spec("waveform", "float32", ["B", "L"])],
        },
    }


def dynamic_axes(component: Dict[str, List[Dict[str, Any]]]) -> Dict[str, Dict[int, str]]:
    """torch.onnx.export `dynamic_axes` for a component: every symbolic dim of every input and output."""
    axes: Dict[str, Dict[int, str]] = {}
    for t in component["inputs"] + component["outputs"]:
        named = {i: d for i, d in enumerate(t["dims"]) if isinstance(d, str)}
        if named:
            axes[t["name"]] = named
    return axes


def concrete_shape(t: Dict[str, Any], sizes: Dict[str, int]) -> List[int]:
    """A tensor's dims with each symbolic name replaced by its size in `sizes`."""
    return [d if isinstance(d, int) else sizes[d] for d in t["dims"]]


def compare_signature(expected: Dict[str, List[Dict[str, Any]]], actual: Dict[str, List[Tuple[str, str, List[Any]]]]) -> List[str]:
    """
    The check Tessera runs when it opens a session (src-main/engine/runtime/validate.ts): every declared tensor
    present with its type and rank, numeric dims equal, nothing undeclared. `actual[side]` = [(name, type, dims)].
    """
    problems = []
    for side in ("inputs", "outputs"):
        got = {name: (type_, dims) for name, type_, dims in actual[side]}
        for t in expected[side]:
            if t["name"] not in got:
                problems.append(f"{side[:-1]} '{t['name']}' missing (graph has {', '.join(got) or 'none'})")
                continue
            type_, dims = got[t["name"]]
            if type_ != t["type"]:
                problems.append(f"{side[:-1]} '{t['name']}': type {type_}, expected {t['type']}")
            if len(dims) != len(t["dims"]):
                problems.append(f"{side[:-1]} '{t['name']}': rank {len(dims)} {dims}, expected {t['dims']}")
                continue
            for i, (want, have) in enumerate(zip(t["dims"], dims)):
                if isinstance(want, int) and isinstance(have, int) and want != have:
                    problems.append(f"{side[:-1]} '{t['name']}': dim {i} is {have}, expected {want}")
        declared = {t["name"] for t in expected[side]}
        problems += [f"{side[:-1]} '{n}' is in the graph but not declared" for n in got if n not in declared]
    return problems
