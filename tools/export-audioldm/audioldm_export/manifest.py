"""
manifest.json (src-main/contract/manifest.ts) from the checkpoint's configs, the licence text it carries, and how it
is written: last, atomically, once every graph loaded and passed its checks.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from .constants import (EXPORTER_VERSION, FILES, LICENCE_NAME, LICENCE_URL, MANIFEST_FILE, NATIVE_WINDOW_FRAMES, OPSET,
                        TOKENIZER_FILE)
from .errors import ExportError
from .receptive_fields import (vae_decoder_halo_latent_frames, vocoder_extra_samples, vocoder_halo_mel_frames,
                               vocoder_hop)
from .scheduler import scheduler_block
from .specs import tensor_specs

DISPLAY_NAMES: Dict[str, str] = {
    "cvssp/audioldm": "AudioLDM S-full",
    "cvssp/audioldm-s-full-v2": "AudioLDM S-full v2",
    "cvssp/audioldm-m-full": "AudioLDM M-full",
    "cvssp/audioldm-l-full": "AudioLDM L-full",
}
# diffusers AudioLDMPipeline defaults: 10 DDIM steps, guidance 2.5, eta 0 (research §1, "Defaults" table).
DEFAULTS = {"steps": 10, "guidance": 2.5, "sampler": "ddim", "eta": 0.0}


def licence_text(source: str, revision: str, heads_note: str, fp16: bool) -> str:
    """LICENCE.txt and the manifest's licence text: attribution, source and revision, CC BY-NC-SA 4.0 terms, changes."""
    name = DISPLAY_NAMES.get(source, source)
    where = f"local folder {source}" if os.path.isabs(source) else f"https://huggingface.co/{source}"
    fp16_note = " The UNet was converted to float16 (normalisation, softmax and the timestep embedding kept in float32)." if fp16 else ""
    return (
        f"{name}: AudioLDM model weights by Haohe Liu et al. (Centre for Vision, Speech and Signal Processing, University "
        f"of Surrey), \"AudioLDM: Text-to-Audio Generation with Latent Diffusion Models\", ICML 2023 (arXiv:2301.12503).\n"
        f"Source: {where} (revision {revision}).\n"
        f"Licence: Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International ({LICENCE_NAME}), "
        f"{LICENCE_URL}\n"
        "Non-commercial use only. If you share these files or anything derived from them, keep this notice, credit the "
        "authors, say what you changed and share under the same licence.\n"
        "The original release states the models were trained on AudioSet, Freesound and BBC Sound Effects data under "
        "the UK copyright exception for academic research.\n"
        f"Changes: converted from the diffusers checkpoint to ONNX (opset {OPSET}) by Tessera's "
        f"tools/export-audioldm/export_audioldm.py {EXPORTER_VERSION}: CLAP text branch with L2 normalisation of its "
        "output; UNet called with class_labels (no cross-attention context); VAE decoder with the division by the "
        f"scaling factor built in; HiFi-GAN vocoder. {heads_note}{fp16_note}\n"
        "Conversion code: diffusers and transformers (Apache-2.0). This notice is not legal advice.\n"
    )


def tokenizer_block(tok: Dict[str, Any], text_encoder: Dict[str, Any], sha: str) -> Dict[str, Any]:
    """The manifest's `tokenizer`: file, sha256, max length (RoBERTa's real limit if the config has none), pad, unk."""
    max_len = tok.get("model_max_length")
    # Tokenizers without a limit report 1e30; RoBERTa's real limit is max_position_embeddings − 2 (padding_idx + 1
    # offset of its position ids) = 512 (research §3.1 "Max length is 512, not 77").
    limit = int(text_encoder.get("max_position_embeddings", 514)) - 2
    if not isinstance(max_len, (int, float)) or max_len <= 0 or max_len > limit:
        max_len = limit
    block = {"file": TOKENIZER_FILE, "sha256": sha, "maxLength": int(max_len), "padId": int(tok["pad_token_id"])}
    if tok.get("unk_token_id") is not None:
        block["unkId"] = int(tok["unk_token_id"])
    return block


def build_manifest(
    configs: Dict[str, Dict[str, Any]],
    file_hashes: Dict[str, str],
    *,
    source: str,
    revision: str,
    pack_id: str,
    fp16: bool,
    heads_mode: str,
    heads: Sequence[int],
    head_channels: Optional[int],
    external_data: Optional[Dict[str, List[str]]] = None,
) -> Dict[str, Any]:
    """
    The manifest (src-main/contract/manifest.ts) from the checkpoint's config dicts: `unet`, `vae`, `scheduler`,
    `vocoder`, `text_encoder` (as in the repo's config.json files, or the loaded models' `.config`) and `tokenizer`
    ({model_max_length, pad_token_id, unk_token_id}). `file_hashes` maps each written file name to its sha256.
    `external_data` maps a component to its external weight files (external_data_files); each becomes an
    `externalData` entry with its sha256, so that Tessera checks those bytes too.
    """
    unet, vae, voc, te = configs["unet"], configs["vae"], configs["vocoder"], configs["text_encoder"]
    problems = []
    latent_channels = int(vae["latent_channels"])
    if not (int(unet["in_channels"]) == int(unet["out_channels"]) == latent_channels):
        problems.append(f"UNet channels {unet['in_channels']}/{unet['out_channels']} ≠ VAE latent channels {latent_channels}")
    if int(vae.get("out_channels", 1)) != 1:
        problems.append(f"VAE decodes {vae['out_channels']} channels, the audioldm contract has one mel image")
    if unet.get("class_embed_type") != "simple_projection" or not unet.get("class_embeddings_concat"):
        problems.append("UNet is not conditioned by a concatenated simple_projection class embedding (AudioLDM v1 FiLM)")
    text_dim = int(te.get("projection_dim", unet.get("projection_class_embeddings_input_dim", 512)))
    if int(unet.get("projection_class_embeddings_input_dim") or text_dim) != text_dim:
        problems.append(f"UNet class embedding input {unet['projection_class_embeddings_input_dim']} ≠ text embedding {text_dim}")
    vae_scale = 2 ** (len(vae["block_out_channels"]) - 1)  # research §1: ×4 in time and frequency
    mel_bins = int(voc["model_in_dim"])
    if mel_bins % vae_scale != 0:
        problems.append(f"{mel_bins} mel bins are not divisible by the VAE scale {vae_scale}")
    if bool(voc.get("normalize_before", False)):
        problems.append("vocoder normalize_before = true (AudioLDM's HiFi-GAN has none, research §1)")
    if problems:
        raise ExportError("not an AudioLDM v1 checkpoint Tessera can use: " + "; ".join(problems))
    latent_bins = mel_bins // vae_scale
    hop = vocoder_hop(voc)
    sample_rate = int(voc["sampling_rate"])
    time_multiple = 2 ** (len(unet["block_out_channels"]) - 1)  # research §1: 3 stride-2 convs → T % 8 == 0
    specs = tensor_specs(text_dim, latent_channels, latent_bins, mel_bins)
    components = {}
    for key, file in FILES.items():
        components[key] = {"file": file, "sha256": file_hashes[file], **specs[key]}
        external = (external_data or {}).get(key)
        if external:
            components[key]["externalData"] = [{"file": f, "sha256": file_hashes[f]} for f in external]

    name = DISPLAY_NAMES.get(source, re.split(r"[\\/]", source.rstrip("/\\"))[-1])
    if heads_mode == "original":
        heads_note = (f"Attention heads: the original AudioLDM split ({head_channels} channels per head; heads per level "
                      f"{', '.join(str(h) for h in heads)}).")
    else:
        heads_note = f"Attention heads: diffusers' split ({', '.join(str(h) for h in heads)} heads per level)."
    scale = float(vae["scaling_factor"])
    return {
        "schemaVersion": 1,
        "id": pack_id,
        "name": f"{name} (fp16 UNet)" if fp16 else name,
        "version": f"{EXPORTER_VERSION}+{re.sub(r'[^0-9A-Za-z.-]', '-', revision)[:12]}",
        "family": "audioldm",
        "description": (
            f"{name} text-to-audio latent diffusion model, exported from {source} (revision {revision}) by "
            f"tools/export-audioldm {EXPORTER_VERSION}. 16 kHz mono; trained on 10.24 s clips. {heads_note}"
            + (" UNet in float16." if fp16 else "")
        ),
        "demo": False,
        "licence": {"name": LICENCE_NAME, "url": LICENCE_URL, "text": licence_text(source, revision, heads_note, fp16)},
        "audio": {"sampleRate": sample_rate, "channels": 1},
        "latent": {
            "channels": latent_channels,
            "frequencyBins": latent_bins,
            # 16000 / 160 = 100 mel frames/s, / 4 → 25 latent frames per second (research §1).
            "framesPerSecond": sample_rate / hop / vae_scale,
            "timeMultiple": time_multiple,
            "nativeWindowFrames": NATIVE_WINDOW_FRAMES,
        },
        "mel": {
            "bins": mel_bins,
            "hop": hop,
            "framesPerLatentFrame": vae_scale,
            "vocoderExtraSamples": vocoder_extra_samples(voc),
        },
        "textEmbedDim": text_dim,
        "vaeScalingFactor": scale,
        "scheduler": scheduler_block(configs["scheduler"]),
        "defaults": dict(DEFAULTS),
        "tokenizer": tokenizer_block(configs["tokenizer"], te, file_hashes[TOKENIZER_FILE]),
        "components": components,
        "decode": {
            "vaeHaloLatentFrames": vae_decoder_halo_latent_frames(vae),
            "vocoderHaloMelFrames": vocoder_halo_mel_frames(voc),
        },
    }


def sha256_file(path: Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks (graphs and their weights run to gigabytes)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def pack_hashes(out: Path, external: Dict[str, List[str]]) -> Dict[str, str]:
    """sha256 of every file the manifest names: tokenizer.json, each graph and each graph's external weight files."""
    hashes = {TOKENIZER_FILE: sha256_file(out / TOKENIZER_FILE)}
    for key in FILES:
        hashes[FILES[key]] = sha256_file(out / FILES[key])
        for f in external[key]:
            hashes[f] = sha256_file(out / f)
    return hashes


def write_manifest(out: Path, manifest: Dict[str, Any]) -> None:
    """Writes manifest.json through a temporary file and a rename, so a folder never holds half a manifest."""
    tmp = out / (MANIFEST_FILE + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2) + "\n")
    os.replace(tmp, out / MANIFEST_FILE)
