"""
The float16 UNet (`--fp16`, research §7.3): ONNX Runtime's converter with normalisation, softmax and the timestep
embedding kept in float32, then the clean-up of the casts it leaves. The graph logic works on plain data (exercised
by --selftest); onnx and onnxruntime are imported when converting.
"""
from __future__ import annotations

import heapq
from typing import Any, Callable, Dict, List, Sequence, Tuple

from .constants import REQUIREMENTS_FILE
from .errors import ExportError, MissingDependencies

# Op types kept in float32 when the UNet is converted to fp16 (research §7.3: normalisation and softmax stay fp32).
FP16_OP_BLOCK_LIST = ["InstanceNormalization", "GroupNormalization", "LayerNormalization", "Softmax"]
ONNX_FLOAT, ONNX_FLOAT16 = 1, 10


def fp16_block_nodes(nodes: Sequence[Tuple[str, str, Sequence[str], Sequence[str]]]) -> List[str]:
    """
    Names of nodes to keep in float32 besides FP16_OP_BLOCK_LIST: the sinusoidal timestep embedding and everything
    feeding it. Its arguments t·ω reach ~1000 rad, where float16's spacing is 0.5, which would scramble sin/cos.
    The walk starts at every Sin/Cos and climbs producers, stopping at Shape/Size (integer shape plumbing: blocking
    those would only add a float cast of the whole latent). `nodes` = [(name, op_type, inputs, outputs)].
    """
    producer = {}
    for node in nodes:
        for out in node[3]:
            producer[out] = node
    keep, stack = set(), [n for n in nodes if n[1] in ("Sin", "Cos")]
    while stack:
        name, op, inputs, _ = stack.pop()
        if name in keep or op in ("Shape", "Size"):
            continue
        keep.add(name)
        stack += [producer[i] for i in inputs if i in producer]
    return sorted(keep)


def collapse_cast_round_trips(nodes: Sequence[Dict[str, Any]], float32: set, protected: set) -> Tuple[Dict[str, str], set]:
    """
    After fp16 conversion: the converter gives every blocked node float32 inputs and outputs through casts, so two
    blocked nodes in a row talk through Cast(fp32→fp16) → Cast(fp16→fp32), which rounds the value to float16 anyway
    (for the timestep path: t·ω rounded to 0.5 near 1000). This finds such pairs whose source is float32 and
    returns (tensor renames for the readers of the second cast, names of the casts to delete). Exact: the readers
    get the float32 source itself. `nodes` = [{name, op, inputs, outputs, to}] (`to` of Cast nodes).
    """
    producer = {o: n for n in nodes for o in n["outputs"]}
    rename: Dict[str, str] = {}
    drop = set()
    for c2 in nodes:
        if c2["op"] != "Cast" or c2.get("to") != ONNX_FLOAT or c2["outputs"][0] in protected:
            continue
        c1 = producer.get(c2["inputs"][0])
        if c1 is None or c1["op"] != "Cast" or c1.get("to") != ONNX_FLOAT16 or c1["inputs"][0] not in float32:
            continue
        rename[c2["outputs"][0]] = c1["inputs"][0]
        drop.add(c2["name"])

    def resolve(name: str) -> str:
        seen = set()
        while name in rename and name not in seen:
            seen.add(name)
            name = rename[name]
        return name

    rename = {k: resolve(k) for k in rename}
    used = {rename.get(i, i) for n in nodes if n["name"] not in drop for i in n["inputs"]}
    for n in nodes:  # first casts nobody reads any more
        if (n["op"] == "Cast" and n.get("to") == ONNX_FLOAT16 and n["name"] not in drop and n["outputs"][0] not in used
                and n["outputs"][0] not in protected and n["inputs"][0] in float32):
            drop.add(n["name"])
    return rename, drop


def topological_order(nodes: Sequence[Tuple[Sequence[str], Sequence[str]]]) -> List[int]:
    """Indices of `nodes` ([(inputs, outputs)]) in a topological order, stable (ONNX requires sorted nodes)."""
    producer = {o: i for i, n in enumerate(nodes) for o in n[1] if o}
    indegree = [0] * len(nodes)
    readers: Dict[int, List[int]] = {}
    for i, n in enumerate(nodes):
        for src in {producer[x] for x in n[0] if x in producer and producer[x] != i}:
            indegree[i] += 1
            readers.setdefault(src, []).append(i)
    ready = [i for i, d in enumerate(indegree) if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        i = heapq.heappop(ready)
        order.append(i)
        for j in readers.get(i, []):
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(order) != len(nodes):
        raise ExportError("the converted graph has a cycle")
    return order


def fp16_converter() -> Tuple[List[str], Callable[..., Any]]:
    """
    ONNX Runtime's float16 converter (onnxruntime.transformers.float16): (DEFAULT_OP_BLOCK_LIST,
    convert_float_to_float16), or MissingDependencies. There is no fallback to onnxconverter-common's converter of the
    same name: it keeps Cast(to=float32) nodes outside the block list as they are (ORT's retargets them to float16)
    and leaves initializers read by both a blocked and a converted node in float32 (ORT's converts them and casts
    back for the blocked node), so its UNet feeds float32 into float16 operators and ONNX Runtime refuses to load it.
    """
    try:
        from onnxruntime.transformers.float16 import DEFAULT_OP_BLOCK_LIST, convert_float_to_float16
    except ImportError as e:
        raise MissingDependencies(
            f"--fp16 needs onnxruntime.transformers.float16 (ONNX Runtime's float16 converter), which cannot be "
            f"imported here ({type(e).__name__}: {e}).\nInstall the onnxruntime of requirements.txt, whose wheel "
            f"ships it (onnxruntime-gpu of the same version does too):\n"
            f"  pip install -r {REQUIREMENTS_FILE}\n"
            "or export without --fp16. onnxconverter-common's converter is no substitute: ONNX Runtime refuses to load "
            "the UNet it writes (float32 casts and weights left inside the float16 graph)."
        ) from e
    return list(DEFAULT_OP_BLOCK_LIST), convert_float_to_float16


def convert_unet_to_fp16(model: Any) -> Any:
    """
    float16 UNet with float32 I/O (keep_io_types), GroupNorm (InstanceNormalization), LayerNorm, Softmax and the
    sinusoidal timestep embedding kept in float32 (research §7.3; fp16_block_nodes). Integer timesteps ≤ 2048 pass
    the fp16 input cast exactly.
    """
    import itertools

    import onnx

    DEFAULT_OP_BLOCK_LIST, convert_float_to_float16 = fp16_converter()
    nodes = [(n.name, n.op_type, list(n.input), list(n.output)) for n in model.graph.node]
    model = convert_float_to_float16(
        model,
        keep_io_types=True,
        disable_shape_infer=True,  # done by the caller on the weight-free graph (works above 2 GB)
        op_block_list=sorted(set(DEFAULT_OP_BLOCK_LIST) | set(FP16_OP_BLOCK_LIST)),
        node_block_list=fp16_block_nodes(nodes),
    )
    graph = model.graph
    float32 = {vi.name for vi in itertools.chain(graph.input, graph.output, graph.value_info)
               if vi.type.tensor_type.elem_type == ONNX_FLOAT}
    float32 |= {t.name for t in graph.initializer if t.data_type == ONNX_FLOAT}
    plain = []
    for n in graph.node:
        to = next((a.i for a in n.attribute if a.name == "to"), None) if n.op_type == "Cast" else None
        plain.append({"name": n.name, "op": n.op_type, "inputs": list(n.input), "outputs": list(n.output), "to": to})
    rename, drop = collapse_cast_round_trips(plain, float32, {o.name for o in graph.output})
    kept = []
    for n in graph.node:
        if n.name in drop:
            continue
        copy = onnx.NodeProto()
        copy.CopyFrom(n)
        for i, name in enumerate(copy.input):
            if name in rename:
                copy.input[i] = rename[name]
        kept.append(copy)
    order = topological_order([(list(n.input), list(n.output)) for n in kept])  # the converter appends its casts
    del graph.node[:]
    graph.node.extend([kept[i] for i in order])
    produced = {o for n in graph.node for o in n.output}
    live = [vi for vi in graph.value_info if vi.name in produced]
    del graph.value_info[:]
    graph.value_info.extend(live)
    return model
