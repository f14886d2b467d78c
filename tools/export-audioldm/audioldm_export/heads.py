"""
The UNet's attention-head split (research §7.7): the original AudioLDM split and diffusers' reading of the same
checkpoint, and the UNet rebuilt with a given split (torch and diffusers imported inside those functions).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence, Tuple

from .errors import ExportError

# Original UNet `num_head_channels`: 32 for S and M, 64 for L (research §1 "UNet S / M / L" and §7.7; haoheliu/AudioLDM
# audioldm/utils.py: "-l-" sets model_channels 256 and num_head_channels 64, "-m-" model_channels 192).
HEAD_CHANNELS_BY_MODEL_CHANNELS = {128: 32, 192: 32, 256: 64}


def diffusers_head_split(unet_config: Dict[str, Any]) -> List[int]:
    """
    Heads per down level as diffusers builds them: `num_attention_heads = num_attention_heads or attention_head_dim`,
    i.e. the legacy `attention_head_dim` (8 in the cvssp configs) is read as a number of heads (research §7.7).
    """
    levels = len(unet_config["block_out_channels"])
    heads = unet_config.get("num_attention_heads") or unet_config.get("attention_head_dim", 8)
    if isinstance(heads, (list, tuple)):
        return [int(h) for h in heads]
    return [int(heads)] * levels


def default_head_channels(block_out_channels: Sequence[int]) -> int:
    """The original `num_head_channels` of the UNet's width (32 for S/M, 64 for L); ExportError for another width."""
    c0 = int(block_out_channels[0])
    if c0 not in HEAD_CHANNELS_BY_MODEL_CHANNELS:
        raise ExportError(
            f"unknown AudioLDM UNet width (block_out_channels[0] = {c0}; S/M/L have 128/192/256): pass --head-channels "
            "with the original num_head_channels, or --heads diffusers"
        )
    return HEAD_CHANNELS_BY_MODEL_CHANNELS[c0]


def original_head_split(block_out_channels: Sequence[int], head_channels: int) -> List[int]:
    """
    Heads per level of the original UNet (openaimodel.py, use_spatial_transformer + legacy): num_heads =
    ch // num_head_channels with dim_head = num_head_channels. S → (4, 8, 12, 20), M → (6, 12, 18, 30),
    L → (4, 8, 12, 20) (research §7.7). Level 0 has no attention; the mid block uses the last entry.
    """
    heads = []
    for ch in block_out_channels:
        if ch % head_channels != 0:
            raise ExportError(f"block channels {ch} are not a multiple of {head_channels} channels per head")
        heads.append(ch // head_channels)
    return heads


def attention_levels(unet_config: Dict[str, Any]) -> List[int]:
    """Indices of the down levels with attention (CrossAttn blocks); level 0 has none in AudioLDM."""
    return [i for i, t in enumerate(unet_config["down_block_types"]) if "CrossAttn" in t]


def unet_with_heads(unet: Any, heads: Sequence[int]) -> Any:
    """
    The same UNet weights with `heads` attention heads per level (research §7.7). diffusers reads the legacy
    `attention_head_dim` as a number of heads, and passing `num_attention_heads` raises in UNet2DConditionModel, so
    the per-level tuple goes into `attention_head_dim`. The head split changes no weight shape.
    """
    from diffusers import UNet2DConditionModel

    config = {k: v for k, v in dict(unet.config).items() if not k.startswith("_")}
    config["attention_head_dim"] = tuple(int(h) for h in heads)
    if "num_attention_heads" in config:
        config["num_attention_heads"] = None
    rebuilt = UNet2DConditionModel.from_config(config)
    rebuilt.load_state_dict(unet.state_dict(), strict=True)
    param = next(unet.parameters())
    return rebuilt.to(device=param.device, dtype=param.dtype).eval()


def attention_layout(unet: Any) -> List[Tuple[str, int, int]]:
    """(module path, heads, channels per head) of every attention layer of the UNet."""
    from diffusers.models.attention_processor import Attention

    return [(name, int(m.heads), int(m.to_q.out_features) // int(m.heads))
            for name, m in unet.named_modules() if isinstance(m, Attention)]
