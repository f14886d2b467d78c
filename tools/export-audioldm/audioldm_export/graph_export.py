"""
One graph from PyTorch module to pack file: traced with torch.onnx.export (opset 17, dynamic axes), finalized (fp16
for the UNet with --fp16, metadata, external data above 2 GB, the ONNX checker) and its signature verified.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Tuple

from .constants import OPSET
from .errors import ExportError
from .external_data import EXTERNAL_DATA_THRESHOLD, external_data_file_name
from .fp16 import convert_unet_to_fp16
from .specs import compare_signature, dynamic_axes

# Shapes the graphs are traced at: T a multiple of 8 for the UNet (research §3.2, §7.1: T = 256, the training window).
TRACE_SHAPES = {
    "textEncoder": {"B": 2, "S": 16},
    "unet": {"N": 2, "T": 256},
    "vaeDecoder": {"B": 1, "T": 64},
    "vocoder": {"B": 1, "F": 256},
}
ONNX_TYPES = {1: "float32", 6: "int32", 7: "int64", 9: "bool", 10: "float16"}


def export_graph(module: Any, inputs: Tuple[Any, ...], path: Path, specs: Dict[str, Any]) -> None:
    """torch.onnx.export (TorchScript exporter), opset 17, dynamic axes from the manifest specs, constant folding."""
    import inspect

    import torch

    kwargs: Dict[str, Any] = dict(
        export_params=True,
        opset_version=OPSET,
        do_constant_folding=True,
        input_names=[t["name"] for t in specs["inputs"]],
        output_names=[t["name"] for t in specs["outputs"]],
        dynamic_axes=dynamic_axes(specs),
    )
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: GroupNorm as InstanceNormalization, dynamic_axes honoured
    with torch.no_grad():
        torch.onnx.export(module, inputs, str(path), **kwargs)


def graph_signature(model: Any) -> Dict[str, List[Tuple[str, str, List[Any]]]]:
    """[(name, type, dims)] of a saved graph's inputs (initializers left out) and outputs, for compare_signature."""
    def dims(vi: Any) -> List[Any]:
        out: List[Any] = []
        for d in vi.type.tensor_type.shape.dim:
            out.append(int(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?"))
        return out

    initializers = {t.name for t in model.graph.initializer}
    return {
        "inputs": [(vi.name, ONNX_TYPES.get(vi.type.tensor_type.elem_type, str(vi.type.tensor_type.elem_type)), dims(vi))
                   for vi in model.graph.input if vi.name not in initializers],
        "outputs": [(vi.name, ONNX_TYPES.get(vi.type.tensor_type.elem_type, str(vi.type.tensor_type.elem_type)), dims(vi))
                    for vi in model.graph.output],
    }


def finalize_graph(raw: Path, out: Path, *, fp16: bool, metadata: Dict[str, str]) -> List[Path]:
    """
    Loads a freshly exported graph, optionally converts it to fp16, records metadata and saves it into the pack:
    one file, or `<name>.onnx` + `<name>.onnx.data` when the weights exceed protobuf's 2 GB (research §7.4).
    Returns the files written.
    """
    import onnx
    from onnx.external_data_helper import load_external_data_for_model

    model = onnx.load(str(raw), load_external_data=False)
    for i, node in enumerate(model.graph.node):
        if not node.name:
            node.name = f"tessera_node_{i}"
    if fp16:
        model = onnx.shape_inference.infer_shapes(model)  # on the weight-free graph: no 2 GB limit
    load_external_data_for_model(model, str(raw.parent))
    if fp16:
        model = convert_unet_to_fp16(model)
    onnx.helper.set_model_props(model, metadata)
    weight_bytes = sum(len(t.raw_data) for t in model.graph.initializer)
    data = out.with_name(external_data_file_name(out.name))
    for stale in (out, data):
        if stale.exists():
            stale.unlink()
    if weight_bytes > EXTERNAL_DATA_THRESHOLD:
        onnx.save_model(model, str(out), save_as_external_data=True, all_tensors_to_one_file=True, location=data.name,
                        size_threshold=1024)
        written = [out, data]
    else:
        onnx.save_model(model, str(out))
        written = [out]
    try:
        onnx.checker.check_model(str(out))
    except onnx.checker.ValidationError as e:
        raise ExportError(f"{out.name} fails the ONNX checker: {e}") from e
    return written


def verify_signature(path: Path, specs: Dict[str, Any]) -> None:
    """The saved graph's inputs and outputs against its manifest specs; ExportError listing every difference."""
    import onnx

    problems = compare_signature(specs, graph_signature(onnx.load(str(path), load_external_data=False)))
    if problems:
        raise ExportError(f"{path.name} does not match its manifest entry:\n  - " + "\n  - ".join(problems))
