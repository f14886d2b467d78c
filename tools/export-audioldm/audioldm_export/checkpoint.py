"""
The diffusers checkpoint: which one `--model` names, its download, and its parts loaded in PyTorch. Only the standard
library at module level; torch, diffusers, transformers and huggingface_hub are imported by the functions that need
them (require_dependencies checks them all first).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from .console import log
from .constants import REQUIREMENTS_FILE
from .errors import ExportError, MissingDependencies

MODEL_ALIASES: Dict[str, str] = {
    "s-full-v2": "cvssp/audioldm-s-full-v2",
    "m-full": "cvssp/audioldm-m-full",
    "l-full": "cvssp/audioldm-l-full",
}
COMPONENT_FOLDERS = ("text_encoder", "unet", "vae", "vocoder")
OTHER_FOLDERS = ("tokenizer", "scheduler")


def resolve_model(model: str) -> Tuple[str, bool]:
    """`--model` → (hub repo id or local folder, is_local). Aliases: s-full-v2, m-full, l-full."""
    if model in MODEL_ALIASES:
        return MODEL_ALIASES[model], False
    if Path(model).expanduser().is_dir():
        return str(Path(model).expanduser().resolve()), True
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*", model):
        return model, False
    raise ExportError(
        f"--model {model!r} is neither an alias ({', '.join(MODEL_ALIASES)}), a Hugging Face repo id (owner/name) "
        "nor an existing folder holding a diffusers AudioLDM checkpoint"
    )


def default_pack_id(source: str, fp16: bool) -> str:
    """Pack id from the repo id or folder name: lowercase, [a-z0-9._-] (manifest `id`)."""
    base = re.split(r"[\\/]", source.rstrip("/\\"))[-1].lower()
    base = re.sub(r"[^a-z0-9._-]+", "-", base).strip("-._") or "audioldm"
    if not re.match(r"[a-z0-9]", base):
        base = f"audioldm-{base}"
    return f"{base}-fp16" if fp16 else base


def require_dependencies() -> Dict[str, str]:
    """Imports the export's dependencies or stops with what to install. Returns their versions."""
    versions, missing = {}, []
    for module in ("torch", "numpy", "diffusers", "transformers", "tokenizers", "onnx", "onnxruntime", "huggingface_hub"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError as e:
            missing.append(f"{module} ({e})")
    if missing:
        raise MissingDependencies(
            "the export needs " + ", ".join(missing) + ".\nInstall them in a virtual environment:\n"
            f"  python3 -m venv .venv && . .venv/bin/activate && pip install -r {REQUIREMENTS_FILE}"
        )
    return versions


def fetch_checkpoint(source: str, is_local: bool, revision: Optional[str]) -> Tuple[Path, str]:
    """Downloads the needed files of a hub checkpoint (or uses a local folder). Returns (folder, revision)."""
    if is_local:
        return Path(source), revision or "local"
    from huggingface_hub import HfApi, snapshot_download

    info = HfApi().model_info(source, revision=revision)
    names = [s.rfilename for s in info.siblings or []]
    wanted = ["model_index.json"]
    for folder in COMPONENT_FOLDERS:
        inside = [n for n in names if n.startswith(folder + "/") and ".fp16." not in n]
        weights = [n for n in inside if n.endswith(".safetensors")] or [n for n in inside if n.endswith(".bin")]
        if not weights:
            raise ExportError(f"{source}: no weights in {folder}/ (files: {', '.join(inside) or 'none'})")
        wanted += weights + [n for n in inside if n.endswith(".json")]
    for folder in OTHER_FOLDERS:
        wanted += [n for n in names if n.startswith(folder + "/")]
    log(f"downloading {len(wanted)} files of {source}@{info.sha[:10]} (the Hugging Face cache keeps them)")
    path = snapshot_download(source, revision=info.sha, allow_patterns=wanted)
    return Path(path), info.sha


def load_checkpoint(folder: Path, device: str) -> Dict[str, Any]:
    """
    The checkpoint's fast tokenizer, its text encoder (eager attention), UNet, VAE and vocoder in float32 on `device`
    in eval mode, and its scheduler config.
    """
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, UNet2DConditionModel
    from transformers import AutoTokenizer, ClapTextModelWithProjection, SpeechT5HifiGan

    tokenizer = AutoTokenizer.from_pretrained(str(folder), subfolder="tokenizer", use_fast=True)
    if not getattr(tokenizer, "is_fast", False):
        raise ExportError("the checkpoint's tokenizer has no fast (tokenizers) version; tokenizer.json cannot be written")
    try:  # eager attention: the plain matmul-softmax graph (research §7.2), no SDPA lowering.
        text_encoder = ClapTextModelWithProjection.from_pretrained(str(folder), subfolder="text_encoder", attn_implementation="eager")
    except (TypeError, ValueError):
        text_encoder = ClapTextModelWithProjection.from_pretrained(str(folder), subfolder="text_encoder")
    unet = UNet2DConditionModel.from_pretrained(str(folder), subfolder="unet")
    vae = AutoencoderKL.from_pretrained(str(folder), subfolder="vae")
    vocoder = SpeechT5HifiGan.from_pretrained(str(folder), subfolder="vocoder")
    scheduler = DDIMScheduler.from_pretrained(str(folder), subfolder="scheduler")
    for m in (text_encoder, unet, vae, vocoder):
        m.to(device=device, dtype=torch.float32).eval()
    return {"tokenizer": tokenizer, "text_encoder": text_encoder, "unet": unet, "vae": vae, "vocoder": vocoder,
            "scheduler_config": dict(scheduler.config)}


def config_dicts(parts: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    """The config dicts build_manifest reads, from the loaded parts (the same keys as the repo's config.json files)."""
    tok = parts["tokenizer"]
    return {
        "unet": dict(parts["unet"].config),
        "vae": dict(parts["vae"].config),
        "scheduler": parts["scheduler_config"],
        "vocoder": parts["vocoder"].config.to_dict(),
        "text_encoder": parts["text_encoder"].config.to_dict(),
        "tokenizer": {"model_max_length": tok.model_max_length, "pad_token_id": tok.pad_token_id,
                      "unk_token_id": tok.unk_token_id},
    }


def set_classic_attention(*models: Any) -> None:
    """Matmul-softmax attention processors, so the graph does not depend on SDPA lowering (research §7.2)."""
    from diffusers.models.attention_processor import AttnProcessor

    for m in models:
        m.set_attn_processor(AttnProcessor())
