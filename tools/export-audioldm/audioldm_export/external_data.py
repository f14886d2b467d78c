"""
External data (research §7.4): a graph whose weights pass protobuf's 2 GB limit keeps them in `<graph>.data` beside
it, and the manifest lists every such file with its sha256 so that Tessera verifies those bytes too.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable, List, Optional, Tuple

from .errors import ExportError

# Above this many bytes of weights a graph is saved with external data (protobuf's 2 GiB limit, research §7.4).
EXTERNAL_DATA_THRESHOLD = 1_900_000_000


def external_data_file_name(graph_file: str) -> str:
    """The one file a graph's external weights are saved to (finalize_graph): `unet.onnx` → `unet.onnx.data`."""
    return graph_file + ".data"


def external_data_files(refs: Iterable[Tuple[str, Optional[str]]], graph_file: str) -> List[str]:
    """
    The files a graph's external data lives in, for the manifest's `externalData`: `refs` = [(tensor name, its
    external_data 'location')], one per externally stored tensor. De-duplicated in first-seen order. Every location
    must be a plain file name in the pack folder other than the graph (the manifest's `file` rule), else ExportError.
    """
    files: List[str] = []
    problems = []
    for name, location in refs:
        if not location:
            problems.append(f"tensor {name!r} is stored externally without a location")
        elif not re.fullmatch(r"[A-Za-z0-9._-]+", location) or location in (".", "..", graph_file):
            problems.append(f"tensor {name!r} is stored in {location!r}, not a plain file name beside {graph_file}")
        elif location not in files:
            files.append(location)
    if problems:
        raise ExportError(
            f"{graph_file}: its external data cannot be listed in the manifest: " + "; ".join(problems) + ". Every "
            "external weight file must lie beside the graph; this is a bug of the exporter, please report it."
        )
    return files


def graph_external_refs(path: Path) -> List[Tuple[str, Optional[str]]]:
    """
    (tensor name, external_data 'location') of every tensor the saved graph stores outside itself: initializers,
    sparse initializers and node attribute tensors, subgraphs included (for external_data_files).
    """
    import onnx

    def tensors(graph: Any) -> Iterable[Any]:
        yield from graph.initializer
        for sparse in graph.sparse_initializer:
            yield sparse.values
            yield sparse.indices
        for node in graph.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield attr.t
                yield from attr.tensors
                if attr.HasField("g"):
                    yield from tensors(attr.g)
                for g in attr.graphs:
                    yield from tensors(g)

    model = onnx.load(str(path), load_external_data=False)
    return [(t.name, next((e.value for e in t.external_data if e.key == "location"), None))
            for t in tensors(model.graph) if t.data_location == onnx.TensorProto.EXTERNAL]
