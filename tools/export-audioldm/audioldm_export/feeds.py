"""Random inputs of a graph at given sizes: the trace's example inputs and the check's feeds (numpy, torch lazily)."""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Tuple

from .specs import concrete_shape


def example_inputs(key: str, specs: Dict[str, Any], sizes: Dict[str, int], device: str, vocab: Tuple[int, int, int]) -> Tuple[Any, ...]:
    """Random tensors of the component's input specs at `sizes` (token ids valid, masks right-padded)."""
    import numpy as np
    import torch

    feeds = random_feeds(key, specs, sizes, np.random.default_rng(1234), vocab)
    return tuple(torch.from_numpy(v).to(device) for v in feeds.values())


def random_feeds(key: str, specs: Dict[str, Any], sizes: Dict[str, int], rng: Any, vocab: Tuple[int, int, int],
                 timestep: Optional[float] = None) -> Dict[str, Any]:
    """numpy feeds for a component. vocab = (vocab_size, pad_id, first ordinary id)."""
    import numpy as np

    feeds: Dict[str, Any] = {}
    for t in specs["inputs"]:
        shape = concrete_shape(t, sizes)
        name = t["name"]
        if name == "input_ids":
            size, pad, first = vocab
            ids = rng.integers(first, size, size=shape)
            mask = np.ones(shape, dtype=np.int64)
            for row in range(1, shape[0]):  # every row after the first is right-padded to a random length ≥ 2
                length = int(rng.integers(2, shape[1] + 1))
                mask[row, length:] = 0
            lengths = mask.sum(axis=1)
            ids[:, 0] = 0  # <s>
            ids[np.arange(shape[0]), lengths - 1] = 2  # </s>
            ids[mask == 0] = pad
            feeds["input_ids"] = ids.astype(np.int64)
            feeds["attention_mask"] = mask
        elif name == "attention_mask":
            continue
        elif name == "timestep":
            value = float(rng.integers(1, 1000)) if timestep is None else timestep
            feeds[name] = np.full(shape, value, dtype=np.float32)  # one t for all rows (research §3.2)
        elif name == "class_labels":
            x = rng.standard_normal(shape)
            feeds[name] = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
        elif name == "mel":
            feeds[name] = np.clip(rng.normal(-5.0, 2.5, size=shape), math.log(1e-5), 3.0).astype(np.float32)
        else:
            feeds[name] = rng.standard_normal(shape).astype(np.float32)
    return {t["name"]: feeds[t["name"]] for t in specs["inputs"]}
