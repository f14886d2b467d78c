#!/usr/bin/env python3
"""
Export an AudioLDM v1 checkpoint (diffusers format) to a Tessera model pack.

    python3 export_audioldm.py --model s-full-v2 --out ~/tessera-packs/audioldm-s-full-v2

Writes four ONNX graphs on the contract of research/audioldm.md §3 (text_encoder.onnx, unet.onnx,
vae_decoder.onnx, vocoder.onnx), tokenizer.json, LICENCE.txt, export-report.json and, last, manifest.json
(src-main/contract/manifest.ts). Every graph is opened in ONNX Runtime and its inputs and outputs compared with the
manifest, even with --no-check; with --check (the default) it is also compared with PyTorch on random inputs. A graph
that does not load, or is over its tolerance, stops the export without a manifest.

Only the standard library is imported at module level: `--help` and `--selftest` work without PyTorch,
diffusers, transformers, onnx or onnxruntime (CI checks exactly that). The export itself needs
requirements.txt (see README.md beside this file).

Research references in comments: "research §N" = ../shared/research/audioldm.md, "longform §N" =
../shared/research/longform.md.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

EXPORTER_VERSION = "1.0.0"
# Opset 17: LayerNormalization is native, GroupNorm still exports as Reshape → InstanceNormalization → Reshape →
# Mul → Add (opset 18 would emit GroupNormalization). Tessera's shared-statistics VAE decoding rewrites exactly that
# pattern (src-main/packs/graph/groupnorm-stats.ts), and research §7.2/§7.3 ask for opset ≥ 17.
OPSET = 17

MODEL_ALIASES: Dict[str, str] = {
    "s-full-v2": "cvssp/audioldm-s-full-v2",
    "m-full": "cvssp/audioldm-m-full",
    "l-full": "cvssp/audioldm-l-full",
}
DISPLAY_NAMES: Dict[str, str] = {
    "cvssp/audioldm": "AudioLDM S-full",
    "cvssp/audioldm-s-full-v2": "AudioLDM S-full v2",
    "cvssp/audioldm-m-full": "AudioLDM M-full",
    "cvssp/audioldm-l-full": "AudioLDM L-full",
}
COMPONENT_FOLDERS = ("text_encoder", "unet", "vae", "vocoder")
OTHER_FOLDERS = ("tokenizer", "scheduler")

# Output file of each manifest component.
FILES = {
    "textEncoder": "text_encoder.onnx",
    "unet": "unet.onnx",
    "vaeDecoder": "vae_decoder.onnx",
    "vocoder": "vocoder.onnx",
}
TOKENIZER_FILE = "tokenizer.json"
LICENCE_FILE = "LICENCE.txt"
REPORT_FILE = "export-report.json"
MANIFEST_FILE = "manifest.json"

# Training window: 1024 mel frames = 10.24 s = 256 latent frames (research §1, "training clip"; original
# `target_length` 1024, `latent_t_size` 256). Not in the diffusers configs (unet.sample_size 128 is only diffusers'
# default length of 5.12 s, research §9.5), hence a constant.
NATIVE_WINDOW_FRAMES = 256
# diffusers AudioLDMPipeline defaults: 10 DDIM steps, guidance 2.5, eta 0 (research §1, "Defaults" table).
DEFAULTS = {"steps": 10, "guidance": 2.5, "sampler": "ddim", "eta": 0.0}
# Original UNet `num_head_channels`: 32 for S and M, 64 for L (research §1 "UNet S / M / L" and §7.7; haoheliu/AudioLDM
# audioldm/utils.py: "-l-" sets model_channels 256 and num_head_channels 64, "-m-" model_channels 192).
HEAD_CHANNELS_BY_MODEL_CHANNELS = {128: 32, 192: 32, 256: 64}

LICENCE_NAME = "CC BY-NC-SA 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by-nc-sa/4.0/"

# Tolerances (max |ONNX − PyTorch|, fp32) per graph. research §7.8 suggests atol 1e-4 for text_embeds and 1e-3 for
# the vocoder; the UNet's ε is O(1) and the VAE's log-mel spans about −11.5…+3, so they get 1e-3 and 2e-3.
DEFAULT_ATOL = {"textEncoder": 1e-4, "unet": 1e-3, "vaeDecoder": 2e-3, "vocoder": 1e-3}
DEFAULT_FP16_ATOL = 0.1
# Shapes the graphs are traced at: T a multiple of 8 for the UNet (research §3.2, §7.1: T = 256, the training window).
TRACE_SHAPES = {
    "textEncoder": {"B": 2, "S": 16},
    "unet": {"N": 2, "T": 256},
    "vaeDecoder": {"B": 1, "T": 64},
    "vocoder": {"B": 1, "F": 256},
}
# Above this many bytes of weights a graph is saved with external data (protobuf's 2 GiB limit, research §7.4).
EXTERNAL_DATA_THRESHOLD = 1_900_000_000
# The head probe advises re-exporting with the other split only when that split's mean ε-MSE is lower by more than
# this fraction. What the probe compares: both UNets get the same noised latents and the same noise, so any difference
# comes from the head split itself. Float32 rounding of the two attention groupings moves the mean by parts per
# million, and one noise draw over four synthetic clips cannot rank two splits whose errors are within a fraction of a
# percent; a split the weights were not trained with regroups every attention score of the levels that differ and is
# expected to cost percents. Below 1 % the probe is no evidence either way.
HEAD_PROBE_MARGIN = 0.01
# Op types kept in float32 when the UNet is converted to fp16 (research §7.3: normalisation and softmax stay fp32).
FP16_OP_BLOCK_LIST = ["InstanceNormalization", "GroupNormalization", "LayerNormalization", "Softmax"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_MISSING_DEPENDENCIES = 0, 1, 2, 3


class ExportError(Exception):
    """A problem the user can act on; printed without a traceback."""


# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════
# Pure part: no third-party imports. Everything here is exercised by --selftest.
# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════


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


def spec(name: str, type_: str, dims: Sequence[Any]) -> Dict[str, Any]:
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
    return [d if isinstance(d, int) else sizes[d] for d in t["dims"]]


# ── attention heads (research §7.7) ─────────────────────────────────────────────────────────────────────────────


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
    return [i for i, t in enumerate(unet_config["down_block_types"]) if "CrossAttn" in t]


# ── scheduler (research §1 "Scheduler", §4) ─────────────────────────────────────────────────────────────────────


def scheduler_block(cfg: Dict[str, Any]) -> Dict[str, Any]:
    """
    The manifest's `scheduler` from a diffusers scheduler config. Missing keys take DDIMScheduler's defaults, as
    diffusers does when it loads the config. Anything Tessera's TypeScript scheduler does not implement is refused.
    """
    problems = []
    schedule = cfg.get("beta_schedule", "linear")
    if schedule not in ("scaled_linear", "linear"):
        problems.append(f"beta_schedule {schedule!r} (Tessera implements scaled_linear and linear)")
    if cfg.get("trained_betas") is not None:
        problems.append("trained_betas (explicit beta tables are not representable in the manifest)")
    prediction = cfg.get("prediction_type", "epsilon")
    if prediction != "epsilon":
        problems.append(f"prediction_type {prediction!r} (the audioldm family predicts epsilon)")
    spacing = cfg.get("timestep_spacing", "leading")
    if spacing not in ("leading", "linspace", "trailing"):
        problems.append(f"timestep_spacing {spacing!r}")
    for flag in ("thresholding", "rescale_betas_zero_snr"):
        if cfg.get(flag):
            problems.append(f"{flag} = true")
    # research §1: clip_sample false in every cvssp config; Tessera's DDIM never clips x̂0 (research §4 step 2).
    if cfg.get("clip_sample", True) and cfg.get("_class_name", "DDIMScheduler") == "DDIMScheduler":
        problems.append("clip_sample = true (Tessera's DDIM does not clip x0)")
    if problems:
        raise ExportError("scheduler config not supported: " + "; ".join(problems))
    return {
        "trainTimesteps": int(cfg.get("num_train_timesteps", 1000)),
        "betaStart": float(cfg.get("beta_start", 0.0001)),
        "betaEnd": float(cfg.get("beta_end", 0.02)),
        "betaSchedule": schedule,
        "predictionType": "epsilon",
        "timestepSpacing": spacing,
        "stepsOffset": int(cfg.get("steps_offset", 0)),
        "setAlphaToOne": bool(cfg.get("set_alpha_to_one", True)),
    }


def alphas_cumprod(sched: Dict[str, Any]) -> List[float]:
    """ᾱ_t in float64 (research §4: β_i = (√β₀ + i·(√β₁ − √β₀)/(n−1))² for scaled_linear)."""
    n, b0, b1 = sched["trainTimesteps"], sched["betaStart"], sched["betaEnd"]
    if sched["betaSchedule"] == "scaled_linear":
        betas = [(math.sqrt(b0) + i * (math.sqrt(b1) - math.sqrt(b0)) / (n - 1)) ** 2 for i in range(n)]
    else:
        betas = [b0 + i * (b1 - b0) / (n - 1) for i in range(n)]
    out, acc = [], 1.0
    for b in betas:
        acc *= 1.0 - b
        out.append(acc)
    return out


# ── lengths and receptive fields (research §1, longform §5.3, §6) ────────────────────────────────────────────────


def vocoder_stages(voc: Dict[str, Any]) -> List[Tuple[int, int, int]]:
    """(kernel, rate, padding) of each ConvTranspose1d of SpeechT5HifiGan: padding (k − u) // 2."""
    return [(int(k), int(u), (int(k) - int(u)) // 2) for u, k in zip(voc["upsample_rates"], voc["upsample_kernel_sizes"])]


def vocoder_hop(voc: Dict[str, Any]) -> int:
    return math.prod(int(u) for u in voc["upsample_rates"])


def vocoder_output_length(frames: int, voc: Dict[str, Any]) -> int:
    """Samples out for `frames` mel frames: each stage (L − 1)·u − 2p + k; conv_pre/conv_post and the MRF keep length."""
    length = frames
    for k, u, p in vocoder_stages(voc):
        length = (length - 1) * u - 2 * p + k
    return length


def vocoder_extra_samples(voc: Dict[str, Any]) -> int:
    """`mel.vocoderExtraSamples`: output = hop·F + extra (AudioLDM: 160·F + 32, research §1 "vocoder length")."""
    hop = vocoder_hop(voc)
    extras = {vocoder_output_length(f, voc) - hop * f for f in (64, 100, 1024)}
    if len(extras) != 1:
        raise ExportError(f"vocoder output length is not hop·F + constant (extras {sorted(extras)})")
    extra = extras.pop()
    if extra < 0:
        raise ExportError(f"vocoder output is shorter than hop·F ({extra} samples)")
    return extra


Span = Callable[[int, int], Tuple[int, int]]


def _conv_span(kernel: int, dilation: int = 1) -> Span:
    """Stride-1 'same' convolution: output o reads inputs o ± d·(k − 1)/2."""
    r = dilation * (kernel - 1) // 2
    return lambda lo, hi: (lo - r, hi + r)


def _nearest_span(factor: int) -> Span:
    """Nearest upsampling: output o reads input ⌊o / f⌋."""
    return lambda lo, hi: (lo // factor, hi // factor)


def _conv_transpose_span(kernel: int, rate: int, padding: int) -> Span:
    """ConvTranspose1d(k, u, p): output o reads inputs ⌈(o + p − k + 1)/u⌉ … ⌊(o + p)/u⌋."""
    return lambda lo, hi: (-((-(lo + padding - kernel + 1)) // rate), (hi + padding) // rate)


def _parallel_span(chains: List[List[Span]]) -> Span:
    def span(lo: int, hi: int) -> Tuple[int, int]:
        ends = [_trace_back(chain, lo, hi) for chain in chains]
        return min(e[0] for e in ends), max(e[1] for e in ends)

    return span


def _trace_back(layers: List[Span], lo: int, hi: int) -> Tuple[int, int]:
    for layer in reversed(layers):
        lo, hi = layer(lo, hi)
    return lo, hi


def _halo(layers: List[Span], up: int) -> int:
    """Input frames each side that output frames [f0, f0+n) (at `up`× the input rate) depend on."""
    f0, n = 1000, 10
    lo, hi = _trace_back(layers, f0 * up, (f0 + n) * up - 1)
    return max(f0 - lo, hi - (f0 + n - 1))


def vae_decoder_halo_latent_frames(vae: Dict[str, Any]) -> int:
    """
    `decode.vaeHaloLatentFrames`: the VAE decoder's conv receptive field in time, ±17 latent frames for AudioLDM
    (longform §5.3; research §5 asks for ≥ 8). Layers of diffusers' Decoder: post_quant_conv 1×1, conv_in 3×3, mid
    block (2 ResNets of two 3×3 convs; its global attention and every GroupNorm are not local and not counted),
    then per level (layers_per_block + 1) ResNets and, except at the last level, nearest ×2 + 3×3 conv, conv_out 3×3.
    """
    c3 = _conv_span(3)
    layers: List[Span] = [c3, c3, c3, c3, c3]  # conv_in, mid ResNet 1 (2 convs), mid ResNet 2 (2 convs)
    levels = len(vae["block_out_channels"])
    for level in range(levels):
        layers += [c3, c3] * (int(vae["layers_per_block"]) + 1)
        if level < levels - 1:
            layers += [_nearest_span(2), c3]
    layers.append(c3)  # conv_out
    return _halo(layers, 2 ** (levels - 1))


def vocoder_halo_mel_frames(voc: Dict[str, Any]) -> int:
    """
    `decode.vocoderHaloMelFrames`: HiFi-GAN's receptive field in mel frames. conv_pre/conv_post k7; per stage the
    ConvTranspose1d and the MRF (union of ResBlock1 chains, each (k, d) then (k, 1) per dilation). AudioLDM-16k: the
    analytic bound 23 (longform §6: float64 experiments were exact from 22; research §5 "≥ ~23").
    """
    layers: List[Span] = [_conv_span(7)]
    dilations = voc["resblock_dilation_sizes"]
    for k, u, p in vocoder_stages(voc):
        layers.append(_conv_transpose_span(k, u, p))
        chains = []
        for j, rk in enumerate(voc["resblock_kernel_sizes"]):
            chain: List[Span] = []
            for d in dilations[j]:
                chain += [_conv_span(int(rk), int(d)), _conv_span(int(rk))]
            chains.append(chain)
        layers.append(_parallel_span(chains))
    layers.append(_conv_span(7))
    return _halo(layers, vocoder_hop(voc))


# ── mel features (original AudioLDM preprocessing, research §1 "STFT") ──────────────────────────────────────────


def hz_to_mel(hz: float) -> float:
    """Slaney mel scale (librosa default, as AudioLDM's `librosa_mel_fn`): linear below 1 kHz, log above."""
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    if hz < min_log_hz:
        return hz / f_sp
    return min_log_hz / f_sp + math.log(hz / min_log_hz) / logstep


def mel_to_hz(mel: float) -> float:
    f_sp, min_log_hz, logstep = 200.0 / 3, 1000.0, math.log(6.4) / 27.0
    min_log_mel = min_log_hz / f_sp
    if mel < min_log_mel:
        return mel * f_sp
    return min_log_hz * math.exp(logstep * (mel - min_log_mel))


def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, fmin: float, fmax: float) -> List[List[float]]:
    """librosa.filters.mel(htk=False, norm='slaney') in plain Python: [n_mels][n_fft/2 + 1]."""
    bins = n_fft // 2 + 1
    fft_hz = [i * sample_rate / n_fft for i in range(bins)]
    m0, m1 = hz_to_mel(fmin), hz_to_mel(fmax)
    pts = [mel_to_hz(m0 + (m1 - m0) * i / (n_mels + 1)) for i in range(n_mels + 2)]
    bank = []
    for m in range(n_mels):
        lo, mid, hi = pts[m], pts[m + 1], pts[m + 2]
        enorm = 2.0 / (hi - lo)
        row = []
        for f in fft_hz:
            w = max(0.0, min((f - lo) / (mid - lo), (hi - f) / (hi - mid)))
            row.append(w * enorm)
        bank.append(row)
    return bank


# ── manifest ────────────────────────────────────────────────────────────────────────────────────────────────────


def licence_text(source: str, revision: str, heads_note: str, fp16: bool) -> str:
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


def validate_manifest(m: Any) -> List[str]:
    """
    A Python mirror of ManifestSchema (src-main/contract/manifest.ts), run before manifest.json is written.
    The TypeScript schema stays the authority: tests/tools/export-audioldm.test.ts validates --selftest output with it.
    """
    problems: List[str] = []

    def obj(v: Any, path: str, required: Iterable[str], optional: Iterable[str] = ()) -> bool:
        if not isinstance(v, dict):
            problems.append(f"{path}: expected an object")
            return False
        allowed = set(required) | set(optional)
        for k in required:
            if k not in v:
                problems.append(f"{path}.{k}: missing")
        for k in v:
            if k not in allowed:
                problems.append(f"{path}.{k}: unknown key")
        return True

    def is_num(v: Any) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)

    def pos_int(v: Any, path: str) -> None:
        if not (is_num(v) and float(v).is_integer() and v >= 1):
            problems.append(f"{path}: expected an integer ≥ 1, got {v!r}")

    def nonneg_int(v: Any, path: str) -> None:
        if not (is_num(v) and float(v).is_integer() and v >= 0):
            problems.append(f"{path}: expected an integer ≥ 0, got {v!r}")

    def positive(v: Any, path: str) -> None:
        if not (is_num(v) and v > 0):
            problems.append(f"{path}: expected a finite number > 0, got {v!r}")

    def string(v: Any, path: str, pattern: Optional[str] = None, min_len: int = 0) -> None:
        if not isinstance(v, str) or len(v) < min_len or (pattern is not None and not re.fullmatch(pattern, v)):
            problems.append(f"{path}: invalid string {v!r}")

    def file_name(v: Any, path: str) -> None:
        string(v, path, r"[A-Za-z0-9._-]+")
        if v in (".", ".."):
            problems.append(f"{path}: must be a plain file name")

    def sha(v: Any, path: str) -> None:
        string(v, path, r"[0-9a-f]{64}")

    def tensor(v: Any, path: str) -> None:
        if obj(v, path, ["name", "type", "dims"]):
            string(v.get("name"), f"{path}.name", min_len=1)
            if v.get("type") not in ("float32", "int64", "int32", "bool"):
                problems.append(f"{path}.type: {v.get('type')!r}")
            dims = v.get("dims")
            if not isinstance(dims, list):
                problems.append(f"{path}.dims: expected an array")
            else:
                for i, d in enumerate(dims):
                    if isinstance(d, str):
                        string(d, f"{path}.dims.{i}", min_len=1)
                    else:
                        pos_int(d, f"{path}.dims.{i}")

    if not obj(m, "(root)", ["schemaVersion", "id", "name", "version", "family", "description", "demo", "licence", "audio",
                            "latent", "mel", "textEmbedDim", "vaeScalingFactor", "scheduler", "defaults", "tokenizer",
                            "components", "decode"]):
        return problems
    if m.get("schemaVersion") != 1:
        problems.append("schemaVersion: expected 1")
    string(m.get("id"), "id", r"[a-z0-9][a-z0-9._-]*")
    string(m.get("name"), "name", min_len=1)
    string(m.get("version"), "version", min_len=1)
    if m.get("family") != "audioldm":
        problems.append("family: expected 'audioldm'")
    string(m.get("description"), "description")
    if not isinstance(m.get("demo"), bool):
        problems.append("demo: expected a boolean")
    lic = m.get("licence")
    if obj(lic, "licence", ["name"], ["url", "text"]):
        string(lic.get("name"), "licence.name")
        for k in ("url", "text"):
            if k in lic:
                string(lic[k], f"licence.{k}")
    audio = m.get("audio")
    if obj(audio, "audio", ["sampleRate", "channels"]):
        pos_int(audio.get("sampleRate"), "audio.sampleRate")
        pos_int(audio.get("channels"), "audio.channels")
    lat = m.get("latent")
    if obj(lat, "latent", ["channels", "frequencyBins", "framesPerSecond", "timeMultiple", "nativeWindowFrames"]):
        for k in ("channels", "frequencyBins", "timeMultiple", "nativeWindowFrames"):
            pos_int(lat.get(k), f"latent.{k}")
        positive(lat.get("framesPerSecond"), "latent.framesPerSecond")
    mel = m.get("mel")
    if obj(mel, "mel", ["bins", "hop", "framesPerLatentFrame", "vocoderExtraSamples"]):
        for k in ("bins", "hop", "framesPerLatentFrame"):
            pos_int(mel.get(k), f"mel.{k}")
        nonneg_int(mel.get("vocoderExtraSamples"), "mel.vocoderExtraSamples")
    pos_int(m.get("textEmbedDim"), "textEmbedDim")
    positive(m.get("vaeScalingFactor"), "vaeScalingFactor")
    s = m.get("scheduler")
    if obj(s, "scheduler", ["trainTimesteps", "betaStart", "betaEnd", "betaSchedule", "predictionType", "timestepSpacing",
                            "stepsOffset", "setAlphaToOne"]):
        pos_int(s.get("trainTimesteps"), "scheduler.trainTimesteps")
        positive(s.get("betaStart"), "scheduler.betaStart")
        positive(s.get("betaEnd"), "scheduler.betaEnd")
        if s.get("betaSchedule") not in ("scaled_linear", "linear"):
            problems.append("scheduler.betaSchedule: invalid")
        if s.get("predictionType") != "epsilon":
            problems.append("scheduler.predictionType: expected 'epsilon'")
        if s.get("timestepSpacing") not in ("leading", "linspace", "trailing"):
            problems.append("scheduler.timestepSpacing: invalid")
        nonneg_int(s.get("stepsOffset"), "scheduler.stepsOffset")
        if not isinstance(s.get("setAlphaToOne"), bool):
            problems.append("scheduler.setAlphaToOne: expected a boolean")
    d = m.get("defaults")
    if obj(d, "defaults", ["steps", "guidance", "sampler", "eta"]):
        pos_int(d.get("steps"), "defaults.steps")
        if is_num(d.get("steps")) and d["steps"] > 1000:
            problems.append("defaults.steps: at most 1000")
        for k in ("guidance", "eta"):
            if not (is_num(d.get(k)) and d[k] >= 0):
                problems.append(f"defaults.{k}: expected a finite number ≥ 0")
        if d.get("sampler") not in ("ddim", "dpmpp-2m"):
            problems.append("defaults.sampler: invalid")
    tok = m.get("tokenizer")
    if obj(tok, "tokenizer", ["file", "sha256", "maxLength", "padId"], ["unkId"]):
        file_name(tok.get("file"), "tokenizer.file")
        sha(tok.get("sha256"), "tokenizer.sha256")
        pos_int(tok.get("maxLength"), "tokenizer.maxLength")
        nonneg_int(tok.get("padId"), "tokenizer.padId")
        if "unkId" in tok:
            nonneg_int(tok["unkId"], "tokenizer.unkId")
    comps = m.get("components")
    if obj(comps, "components", list(FILES)):
        for key in FILES:
            c = comps.get(key)
            path = f"components.{key}"
            if obj(c, path, ["file", "sha256", "inputs", "outputs"], ["externalData"]):
                file_name(c.get("file"), f"{path}.file")
                sha(c.get("sha256"), f"{path}.sha256")
                if "externalData" in c:
                    ext = c["externalData"]
                    if not isinstance(ext, list) or not ext:
                        problems.append(f"{path}.externalData: expected a non-empty array")
                        ext = ext if isinstance(ext, list) else []
                    for i, entry in enumerate(ext):
                        if obj(entry, f"{path}.externalData.{i}", ["file", "sha256"]):
                            file_name(entry.get("file"), f"{path}.externalData.{i}.file")
                            sha(entry.get("sha256"), f"{path}.externalData.{i}.sha256")
                    names = [e.get("file") for e in ext if isinstance(e, dict)]
                    if len(set(names)) != len(names):
                        problems.append(f"{path}.externalData: a file is listed twice")
                for side in ("inputs", "outputs"):
                    ts = c.get(side)
                    if not isinstance(ts, list) or not ts:
                        problems.append(f"{path}.{side}: expected a non-empty array")
                        continue
                    for i, t in enumerate(ts):
                        tensor(t, f"{path}.{side}.{i}")
    dec = m.get("decode")
    if obj(dec, "decode", ["vaeHaloLatentFrames", "vocoderHaloMelFrames"]):
        nonneg_int(dec.get("vaeHaloLatentFrames"), "decode.vaeHaloLatentFrames")
        nonneg_int(dec.get("vocoderHaloMelFrames"), "decode.vocoderHaloMelFrames")
    return problems


# ── graph helpers on plain data (the onnx side extracts the data) ──────────────────────────────────────────────

ONNX_TYPES = {1: "float32", 6: "int32", 7: "int64", 9: "bool", 10: "float16"}


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
    requirements = Path(__file__).with_name("requirements.txt")
    advice.append(f"install the packages of requirements.txt (pip install -r {requirements}) and run the export again")
    advice.append(f"if the error stays, report it with {REPORT_FILE}")
    return (
        f"ONNX Runtime cannot use {len(problems)} graph(s) of the pack:\n  - " + "\n  - ".join(problems) + "\n"
        f"{MANIFEST_FILE} was NOT written, so Tessera will not import {out}; the graphs stay there for inspection and "
        f"{REPORT_FILE} lists these errors. What to do: " + "; ".join(advice) + "."
    )


def relative_size(x: float) -> str:
    """A relative difference for a message: '3.2%', '12%', or '0.00024% (2.4 ppm)' for tiny ones."""
    pct = abs(x) * 100
    text = f"{pct:.0f}%" if pct >= 10 else f"{pct:.2g}%"
    return text + (f" ({abs(x) * 1e6:.2g} ppm)" if abs(x) < 1e-4 else "")


def head_probe_verdict(mean_mse: Dict[str, float], exported: str, margin: float = HEAD_PROBE_MARGIN) -> Dict[str, Any]:
    """
    What the head probe says about the exported split (HEAD_PROBE_MARGIN says why the margin). `mean_mse` = {split:
    mean ε-MSE} for 'original' and 'diffusers'. The relative difference is (exported − other) / the larger of the
    two: above the margin it advises `--heads other`; within ±margin it is no evidence.
    Returns {advise, relativeDifference, margin, message}.
    """
    other = next(v for v in mean_mse if v != exported)
    e, o = float(mean_mse[exported]), float(mean_mse[other])
    numbers = f"'{exported}' {e:.7g}, '{other}' {o:.7g}"
    verdict: Dict[str, Any] = {"advise": None, "relativeDifference": None, "margin": margin}
    if not (math.isfinite(e) and math.isfinite(o)) or min(e, o) < 0 or max(e, o) == 0:
        verdict["message"] = f"the head probe gave no usable mean ε-MSE ({numbers}): no verdict on the head split"
        return verdict
    rel = (e - o) / max(e, o)
    verdict["relativeDifference"] = rel
    if rel > margin:
        verdict["advise"] = other
        verdict["message"] = (
            f"WARNING: on the head probe the '{other}' split's mean ε-MSE is {relative_size(rel)} lower than the "
            f"exported '{exported}' split's ({numbers}), more than the {margin:.0%} margin; consider re-exporting with "
            f"--heads {other}."
        )
    elif rel < -margin:
        verdict["message"] = f"the exported '{exported}' split's mean ε-MSE is {relative_size(rel)} lower ({numbers})"
    else:
        verdict["message"] = (
            f"the two head splits' mean ε-MSE differ by {relative_size(rel)} ({numbers}), within the {margin:.0%} "
            f"margin: no evidence against the exported '{exported}' split"
        )
    return verdict


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


ONNX_FLOAT, ONNX_FLOAT16 = 1, 10


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
    import heapq

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


# ── self-test ───────────────────────────────────────────────────────────────────────────────────────────────────

# The hub configs of cvssp/audioldm-s-full-v2 (unet/config.json, vae/config.json as diffusers 0.15 wrote them; the
# scheduler exactly as scripts/convert_original_audioldm_to_diffusers.py builds it; HiFi-GAN and CLAP text values of
# research §1). M and L differ in block_out_channels and the VAE scaling factor only (research §1).
SELFTEST_UNET_S = {
    "_class_name": "UNet2DConditionModel", "_diffusers_version": "0.15.0.dev0", "act_fn": "silu",
    "attention_head_dim": 8, "block_out_channels": [128, 256, 384, 640], "center_input_sample": False,
    "class_embed_type": "simple_projection", "class_embeddings_concat": True, "conv_in_kernel": 3, "conv_out_kernel": 3,
    "cross_attention_dim": [128, 256, 384, 640],
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "downsample_padding": 1, "dual_cross_attention": False, "flip_sin_to_cos": True, "freq_shift": 0, "in_channels": 8,
    "layers_per_block": 2, "mid_block_scale_factor": 1, "mid_block_type": "UNetMidBlock2DCrossAttn", "norm_eps": 1e-05,
    "norm_num_groups": 32, "num_class_embeds": None, "only_cross_attention": False, "out_channels": 8,
    "projection_class_embeddings_input_dim": 512, "resnet_time_scale_shift": "default", "sample_size": 128,
    "time_cond_proj_dim": None, "time_embedding_type": "positional", "timestep_post_act": None,
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "upcast_attention": False, "use_linear_projection": False,
}
SELFTEST_VAE = {
    "_class_name": "AutoencoderKL", "_diffusers_version": "0.15.0.dev0", "act_fn": "silu",
    "block_out_channels": [128, 256, 512], "down_block_types": ["DownEncoderBlock2D"] * 3, "in_channels": 1,
    "latent_channels": 8, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 1, "sample_size": 512,
    "scaling_factor": 0.9392935633659363, "up_block_types": ["UpDecoderBlock2D"] * 3,
}
SELFTEST_SCHEDULER = {
    "_class_name": "DDIMScheduler", "_diffusers_version": "0.15.0.dev0", "beta_end": 0.0195,
    "beta_schedule": "scaled_linear", "beta_start": 0.0015, "clip_sample": False, "num_train_timesteps": 1000,
    "prediction_type": "epsilon", "set_alpha_to_one": False, "steps_offset": 1, "trained_betas": None,
}
SELFTEST_VOCODER = {
    "model_in_dim": 64, "sampling_rate": 16000, "upsample_initial_channel": 1024, "upsample_rates": [5, 4, 2, 2, 2],
    "upsample_kernel_sizes": [16, 16, 8, 4, 4], "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "initializer_range": 0.01, "leaky_relu_slope": 0.1,
    "normalize_before": False,
}
SELFTEST_TEXT_ENCODER = {"projection_dim": 512, "hidden_size": 768, "max_position_embeddings": 514, "pad_token_id": 1,
                         "vocab_size": 50265}
SELFTEST_TOKENIZER = {"model_max_length": 512, "pad_token_id": 1, "unk_token_id": 3, "bos_token_id": 0, "eos_token_id": 2}
# research §1, "VAE scaling_factor" row.
SELFTEST_MODELS = {
    "cvssp/audioldm-s-full-v2": ([128, 256, 384, 640], 0.9392935633659363),
    "cvssp/audioldm-m-full": ([192, 384, 576, 960], 0.9138255715370178),
    "cvssp/audioldm-l-full": ([256, 512, 768, 1280], 0.9654927849769592),
}


# UNet parameters (research §6): whether the selftest's UNet would be saved with external data, as the export does.
SELFTEST_UNET_PARAMS = {
    "cvssp/audioldm-s-full-v2": 185_040_000,
    "cvssp/audioldm-m-full": 415_950_000,
    "cvssp/audioldm-l-full": 739_140_000,
}


def selftest_configs(repo: str) -> Dict[str, Dict[str, Any]]:
    channels, scale = SELFTEST_MODELS[repo]
    unet = dict(SELFTEST_UNET_S, block_out_channels=list(channels), cross_attention_dim=list(channels))
    return {
        "unet": unet,
        "vae": dict(SELFTEST_VAE, scaling_factor=scale),
        "scheduler": dict(SELFTEST_SCHEDULER),
        "vocoder": dict(SELFTEST_VOCODER),
        "text_encoder": dict(SELFTEST_TEXT_ENCODER),
        "tokenizer": dict(SELFTEST_TOKENIZER),
    }


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def selftest_checks() -> Dict[str, str]:
    """Pure-Python checks of the numbers the manifest and the export rely on (each raises on failure)."""
    checks: Dict[str, str] = {}
    voc, vae = SELFTEST_VOCODER, SELFTEST_VAE
    # research §1 "vocoder length": 160·F + 32; 512 frames → 81 952 samples (diffusers PR #2232 test).
    _expect(vocoder_hop(voc) == 160 and vocoder_extra_samples(voc) == 32, "vocoder length 160·F + 32")
    _expect(vocoder_output_length(512, voc) == 81952, "vocoder 512 frames → 81952 samples")
    checks["vocoderLength"] = "ok"
    # longform §5.3: ±17 latent frames; longform §6: analytic bound 23 mel frames.
    _expect(vae_decoder_halo_latent_frames(vae) == 17, f"VAE halo {vae_decoder_halo_latent_frames(vae)} ≠ 17")
    _expect(vocoder_halo_mel_frames(voc) == 23, f"vocoder halo {vocoder_halo_mel_frames(voc)} ≠ 23")
    checks["halos"] = "ok"
    # research §4 check values of ᾱ.
    a = alphas_cumprod(scheduler_block(SELFTEST_SCHEDULER))
    for t, want in ((0, 0.9985), (1, 0.996994427), (100, 0.823117), (500, 0.114922), (900, 8.7253e-4), (999, 1.42304e-4)):
        _expect(abs(a[t] - want) <= 2e-5 * want + 1e-9, f"alphas_cumprod[{t}] = {a[t]}, research §4 says {want}")
    checks["alphasCumprod"] = "ok"
    # research §7.7 head splits.
    _expect(original_head_split([128, 256, 384, 640], 32) == [4, 8, 12, 20], "S heads")
    _expect(original_head_split([192, 384, 576, 960], 32) == [6, 12, 18, 30], "M heads")
    _expect(original_head_split([256, 512, 768, 1280], 64) == [4, 8, 12, 20], "L heads")
    _expect(diffusers_head_split(SELFTEST_UNET_S) == [8, 8, 8, 8], "diffusers heads")
    checks["headSplits"] = "ok"
    # Slaney mel scale: 1 kHz ↔ 15 mel; triangles normalised to unit area.
    _expect(abs(hz_to_mel(1000.0) - 15.0) < 1e-12 and abs(mel_to_hz(hz_to_mel(5000.0)) - 5000.0) < 1e-9, "mel scale")
    bank = mel_filterbank(16000, 1024, 64, 0.0, 8000.0)
    _expect(len(bank) == 64 and len(bank[0]) == 513, "filterbank shape")
    areas = [sum(row) * 16000 / 1024 for row in bank[32:]]
    _expect(all(abs(x - 1.0) < 0.05 for x in areas), "slaney filters of unit area")
    checks["melFilterbank"] = "ok"
    # fp16 block list: the timestep path up to its graph input, not the Shape plumbing nor the rest of the UNet.
    toy = [
        ("/Shape", "Shape", ["sample"], ["s"]), ("/Gather", "Gather", ["s", "i0"], ["n"]),
        ("/Expand", "Expand", ["timestep", "n"], ["te"]), ("/Unsqueeze", "Unsqueeze", ["te", "ax"], ["tu"]),
        ("/Mul", "Mul", ["tu", "freqs"], ["arg"]), ("/Sin", "Sin", ["arg"], ["sin"]), ("/Cos", "Cos", ["arg"], ["cos"]),
        ("/Concat", "Concat", ["sin", "cos"], ["emb"]), ("/Gemm", "Gemm", ["emb", "w"], ["h"]),
        ("/Conv", "Conv", ["sample", "k"], ["c"]),
    ]
    blocked = fp16_block_nodes(toy)
    _expect(blocked == ["/Cos", "/Expand", "/Gather", "/Mul", "/Sin", "/Unsqueeze"], f"fp16 block list {blocked}")
    checks["fp16BlockList"] = "ok"
    # Signature comparison catches a renamed output and a wrong fixed dim.
    specs = tensor_specs(512, 8, 16, 64)["unet"]
    good = {"inputs": [("sample", "float32", ["N", 8, "T", 16]), ("timestep", "float32", ["N"]),
                       ("class_labels", "float32", ["N", 512])],
            "outputs": [("noise_pred", "float32", ["N", 8, "unk__1", 16])]}
    _expect(compare_signature(specs, good) == [], "signature accepts a matching graph")
    bad = {"inputs": good["inputs"][:2] + [("class_labels", "float32", ["N", 768])], "outputs": [("out", "float32", [1])]}
    _expect(len(compare_signature(specs, bad)) == 3, "signature rejects a wrong dim, a missing and an extra output")
    checks["signature"] = "ok"
    # fp16 cast clean-up: timestep (fp32 input) → Cast16 → Cast32 → Unsqueeze(blocked) → [out32 → Cast16 → Cast32] → Sin.
    F32, F16 = ONNX_FLOAT, ONNX_FLOAT16
    casts = [
        {"name": "in_cast", "op": "Cast", "inputs": ["timestep"], "outputs": ["t16"], "to": F16},
        {"name": "u_in", "op": "Cast", "inputs": ["t16"], "outputs": ["t32"], "to": F32},
        {"name": "u", "op": "Unsqueeze", "inputs": ["t32", "ax"], "outputs": ["u32"]},
        {"name": "u_out", "op": "Cast", "inputs": ["u32"], "outputs": ["u16"], "to": F16},
        {"name": "s_in", "op": "Cast", "inputs": ["u16"], "outputs": ["s32"], "to": F32},
        {"name": "sin", "op": "Sin", "inputs": ["s32"], "outputs": ["y32"]},
        {"name": "sin_out", "op": "Cast", "inputs": ["y32"], "outputs": ["y16"], "to": F16},
        {"name": "gemm", "op": "Gemm", "inputs": ["y16", "w16"], "outputs": ["h16"]},
        {"name": "conv", "op": "Conv", "inputs": ["t16", "k16"], "outputs": ["c16"]},
    ]
    rename, drop = collapse_cast_round_trips(casts, {"timestep", "t32", "u32", "s32", "y32", "ax"}, {"h16"})
    _expect(rename == {"t32": "timestep", "s32": "u32"} and drop == {"u_in", "s_in", "u_out"}, f"casts {rename} {drop}")
    kept = [n for n in casts if n["name"] not in drop]
    order = topological_order([([rename.get(i, i) for i in n["inputs"]], n["outputs"]) for n in reversed(kept)])
    names = [list(reversed(kept))[i]["name"] for i in order]
    _expect(names.index("u") < names.index("sin") < names.index("sin_out") < names.index("gemm")
            and names.index("in_cast") < names.index("conv"), f"topological order {names}")
    checks["fp16Casts"] = "ok"
    checks["loadCheck"] = selftest_load_check()
    checks["headProbeVerdict"] = selftest_head_probe_verdict()
    checks["externalData"] = selftest_external_data()
    return checks


class _StandInArg:
    """What ONNX Runtime's NodeArg offers: name, type string, shape with ints, dim names or None."""

    def __init__(self, name: str, type_: str, shape: List[Any]) -> None:
        self.name, self.type, self.shape = name, type_, shape


class _StandInSession:
    def __init__(self, inputs: List[_StandInArg], outputs: List[_StandInArg]) -> None:
        self._inputs, self._outputs = inputs, outputs

    def get_inputs(self) -> List[_StandInArg]:
        return self._inputs

    def get_outputs(self) -> List[_StandInArg]:
        return self._outputs


def selftest_load_check() -> str:
    """check_pack_loads with stand-in sessions: a graph ONNX Runtime refuses, a renamed output, a pack that loads."""
    specs = tensor_specs(512, 8, 16, 64)
    ort_type = {v: k for k, v in ORT_TYPES.items()}

    def session_for(key: str, rename: Dict[str, str]) -> _StandInSession:
        def args(side: str) -> List[_StandInArg]:
            return [_StandInArg(rename.get(t["name"], t["name"]), ort_type[t["type"]],
                                [d if isinstance(d, int) else (None if d == "N" else f"{d}_dim") for d in t["dims"]])
                    for t in specs[key][side]]

        return _StandInSession(args("inputs"), args("outputs"))

    graphs = [(FILES[k], k, specs[k]) for k in FILES]
    refusal = ("[ONNXRuntimeError] : 1 : FAIL : Load model from unet.onnx failed:Type Error: Type (tensor(float)) of "
               "input parameter (emb32) of operator (Gemm) in node (/Gemm) is invalid.")

    def broken(key: str) -> _StandInSession:
        if key == "unet":
            raise RuntimeError(refusal)
        return session_for(key, {"waveform": "wave"} if key == "vocoder" else {})

    _expect(check_pack_loads(graphs, lambda key: session_for(key, {})) == [], "a pack that loads has no problems")
    problems = check_pack_loads(graphs, broken)
    _expect(len(problems) == 3, f"load check problems {problems}")
    _expect(problems[0] == f"unet.onnx: ONNX Runtime refuses to load it: RuntimeError: {refusal}", problems[0])
    _expect(problems[1].startswith("vocoder.onnx: output 'waveform' missing (graph has wave)")
            and problems[2].startswith("vocoder.onnx: output 'wave' is in the graph but not declared"),
            f"{problems[1:]}")
    message = load_failure_message(problems, "/packs/x", fp16=True)
    for part in ("ONNX Runtime cannot use 3 graph(s)", "unet.onnx: ONNX Runtime refuses to load it", "Type Error",
                 f"{MANIFEST_FILE} was NOT written", "/packs/x", "export without --fp16", "pip install -r"):
        _expect(part in message, f"load failure message lacks {part!r}: {message}")
    _expect("without --fp16" not in load_failure_message(problems[1:], "/packs/x", fp16=True),
            "--fp16 advice only for the UNet")
    return "ok"


def selftest_head_probe_verdict() -> str:
    """The head probe's advice: none for parts per million or within the margin, --heads X beyond it."""
    ppm = head_probe_verdict({"original": 0.1000002, "diffusers": 0.1}, "original")
    _expect(ppm["advise"] is None and "ppm" in ppm["message"] and "within the 1% margin" in ppm["message"],
            f"ppm difference: {ppm}")
    worse = head_probe_verdict({"original": 0.1, "diffusers": 0.095}, "original")
    _expect(worse["advise"] == "diffusers" and "5% lower" in worse["message"]
            and "--heads diffusers" in worse["message"], f"5% worse: {worse}")
    better = head_probe_verdict({"original": 0.09, "diffusers": 0.1}, "original")
    _expect(better["advise"] is None and "10% lower" in better["message"], f"10% better: {better}")
    edge = head_probe_verdict({"original": 99.0, "diffusers": 100.0}, "diffusers")
    _expect(edge["advise"] is None and edge["relativeDifference"] == 0.01, f"at the margin: {edge}")
    nan = head_probe_verdict({"original": float("nan"), "diffusers": 0.1}, "diffusers")
    _expect(nan["advise"] is None and "no verdict" in nan["message"], f"NaN: {nan}")
    return "ok"


def selftest_external_data() -> str:
    """external_data_files and the manifest's externalData: de-duplicated plain names, sha256 each, bad ones refused."""
    refs = [("w1", "unet.onnx.data"), ("w2", "unet.onnx.data"), ("w3", "extra.bin"), ("w4", "unet.onnx.data")]
    _expect(external_data_files(refs, "unet.onnx") == ["unet.onnx.data", "extra.bin"], "external files de-duplicated")
    _expect(external_data_files([], "unet.onnx") == [], "no external data")
    for bad in ("../outside.data", "sub/unet.onnx.data", "", None, "unet.onnx", ".."):
        try:
            external_data_files([("w1", "unet.onnx.data"), ("w9", bad)], "unet.onnx")
        except ExportError as e:
            _expect("w9" in str(e) and "unet.onnx" in str(e), f"external location {bad!r}: {e}")
        else:
            raise AssertionError(f"external location {bad!r} accepted")
    configs = selftest_configs("cvssp/audioldm-s-full-v2")
    files = [TOKENIZER_FILE, *FILES.values(), "unet.onnx.data", "extra.bin"]
    hashes = {f: hashlib.sha256(f"check:{f}".encode()).hexdigest() for f in files}
    m = build_manifest(configs, hashes, source="cvssp/audioldm-s-full-v2", revision="x", pack_id="x", fp16=False,
                       heads_mode="diffusers", heads=[8, 8, 8, 8], head_channels=None,
                       external_data={"unet": external_data_files(refs, "unet.onnx")})
    _expect(m["components"]["unet"]["externalData"] == [{"file": "unet.onnx.data", "sha256": hashes["unet.onnx.data"]},
                                                        {"file": "extra.bin", "sha256": hashes["extra.bin"]}],
            "externalData entries")
    _expect("externalData" not in m["components"]["vocoder"], "no externalData without external data")
    _expect(validate_manifest(m) == [], f"schema mirror accepts externalData: {validate_manifest(m)}")
    m["components"]["unet"]["externalData"] += [{"file": "../x", "sha256": "0" * 64},
                                                {"file": "extra.bin", "sha256": "X"}]
    m["components"]["vocoder"]["externalData"] = []
    _expect(len(validate_manifest(m)) == 4, f"schema mirror rejects bad externalData: {validate_manifest(m)}")
    return "ok"


def numpy_checks() -> Dict[str, str]:
    """Checks of the numpy feature code used by the head probe; skipped where numpy is not installed."""
    try:
        import numpy as np  # noqa: F401
    except ImportError:
        return {"logMel": "skipped (numpy not installed)", "testAudio": "skipped (numpy not installed)"}
    sr = 16000
    t = np.arange(int(1.0 * sr)) / sr
    mel = log_mel(np.sin(2 * np.pi * 1000.0 * t) * 0.5, sr, 1024, 160, 64, 0.0, 8000.0, target_frames=None)
    _expect(mel.shape == (101, 64), f"log-mel shape {mel.shape}")
    centres = [mel_to_hz(hz_to_mel(0.0) + (hz_to_mel(8000.0) - hz_to_mel(0.0)) * (i + 1) / 65) for i in range(64)]
    nearest = int(np.argmin([abs(c - 1000.0) for c in centres]))
    peak = int(np.bincount(mel[2:-2].argmax(axis=1)).argmax())
    _expect(abs(peak - nearest) <= 1, f"1 kHz tone peaks in mel bin {peak}, the 1 kHz filter is {nearest}")
    _expect(float(mel.min()) >= math.log(1e-5) - 1e-6, "log-mel floor ln(1e-5)")
    clips = synthetic_test_audio(sr, 10.24)
    _expect(len(clips) == 4 and all(c.shape == (163840,) and abs(float(np.abs(c).max()) - 0.5) < 1e-6 for _, c in clips),
            "test clips: 10.24 s at peak 0.5")
    return {"logMel": "ok", "testAudio": "ok"}


def run_selftest(args: argparse.Namespace) -> int:
    """Builds a manifest from fixed config dicts, runs the pure checks and prints JSON (the CI check)."""
    source, _ = resolve_model(args.model)
    if source not in SELFTEST_MODELS:
        raise ExportError(f"--selftest knows {', '.join(MODEL_ALIASES)} only")
    configs = selftest_configs(source)
    # The UNet as finalize_graph saves it: above the threshold, every large weight in unet.onnx.data.
    external = {}
    if SELFTEST_UNET_PARAMS[source] * (2 if args.fp16 else 4) > EXTERNAL_DATA_THRESHOLD:
        data = external_data_file_name(FILES["unet"])
        external["unet"] = external_data_files([(f"weight{i}", data) for i in range(3)], FILES["unet"])
    files = [TOKENIZER_FILE, *FILES.values(), *(f for names in external.values() for f in names)]
    hashes = {f: hashlib.sha256(f"selftest:{f}".encode()).hexdigest() for f in files}
    block = configs["unet"]["block_out_channels"]
    head_channels = args.head_channels or default_head_channels(block)
    heads = original_head_split(block, head_channels) if args.heads == "original" else diffusers_head_split(configs["unet"])
    manifest = build_manifest(
        configs, hashes, source=source, revision="selftest", pack_id=args.pack_id or default_pack_id(source, args.fp16),
        fp16=args.fp16, heads_mode=args.heads, heads=heads, head_channels=head_channels, external_data=external,
    )
    problems = validate_manifest(manifest)
    if problems:
        raise ExportError("selftest manifest fails the Python schema mirror:\n  - " + "\n  - ".join(problems))
    broken = json.loads(json.dumps(manifest))
    broken["components"]["unet"]["sha256"] = "xyz"
    broken["extra"] = 1
    _expect(len(validate_manifest(broken)) == 2, "schema mirror rejects a bad sha256 and an unknown key")
    checks = selftest_checks()
    checks["schemaMirror"] = "ok"
    checks.update(numpy_checks())
    out = {
        "manifest": manifest,
        "attentionHeads": {
            "levels": attention_levels(configs["unet"]),
            "original": original_head_split(block, head_channels),
            "diffusers": diffusers_head_split(configs["unet"]),
            "exported": heads,
        },
        "checks": checks,
    }
    print(json.dumps(out, indent=2))
    return EXIT_OK


# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════
# numpy part (imported lazily): features for the head probe.
# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════


def log_mel(wave: Any, sample_rate: int, n_fft: int, hop: int, n_mels: int, fmin: float, fmax: float,
            target_frames: Optional[int] = 1024) -> Any:
    """
    AudioLDM's input features (research §1 "STFT"; audioldm/audio/stft.py TacotronSTFT): centred STFT (reflect pad
    n_fft/2, periodic Hann window of n_fft), magnitude, slaney mel filterbank, ln(max(x, 1e-5)); [frames, n_mels],
    cropped or zero-padded to `target_frames` as `_pad_spec` does.
    """
    import numpy as np

    x = np.pad(np.asarray(wave, dtype=np.float64), (n_fft // 2, n_fft // 2), mode="reflect")
    frames = 1 + (len(x) - n_fft) // hop
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)
    idx = np.arange(n_fft)[None, :] + hop * np.arange(frames)[:, None]
    mag = np.abs(np.fft.rfft(x[idx] * window, axis=1))
    bank = np.asarray(mel_filterbank(sample_rate, n_fft, n_mels, fmin, fmax))
    mel = np.log(np.maximum(mag @ bank.T, 1e-5))
    if target_frames is not None:
        if mel.shape[0] >= target_frames:
            mel = mel[:target_frames]
        else:
            mel = np.concatenate([mel, np.zeros((target_frames - mel.shape[0], n_mels))], axis=0)
    return mel.astype(np.float32)


def synthetic_test_audio(sample_rate: int, seconds: float, seed: int = 0) -> List[Tuple[str, Any]]:
    """
    Four deterministic clips (pink noise, a harmonic tone with tremolo, a chirp, decaying knocks), each normalised like
    AudioLDM's `normalize_wav` (remove the mean, peak 0.5). Ordinary sounds of the kind AudioSet holds, made locally.
    """
    import numpy as np

    n = int(round(seconds * sample_rate))
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1.0 / sample_rate)
    spec[1:] /= np.sqrt(f[1:])
    spec[0] = 0
    pink = np.fft.irfft(spec, n)
    tone = sum(np.sin(2 * np.pi * 220.0 * k * t) / k for k in range(1, 7)) * (0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t))
    f0, f1 = 100.0, 6000.0
    chirp = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t * t / (2 * seconds)))
    knocks = np.zeros(n)
    decay = np.exp(-np.arange(int(0.08 * sample_rate)) / (0.01 * sample_rate)) * rng.standard_normal(int(0.08 * sample_rate))
    for start in range(0, n - len(decay), int(0.25 * sample_rate)):
        knocks[start:start + len(decay)] += decay
    clips = []
    for name, x in (("pink noise", pink), ("harmonic tone", tone), ("chirp", chirp), ("knocks", knocks)):
        x = x - x.mean()
        clips.append((name, (0.5 * x / np.abs(x).max()).astype(np.float32)))
    return clips


# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════
# Heavy part: torch, diffusers, transformers, onnx, onnxruntime, imported inside the functions.
# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════


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
            f"  python3 -m venv .venv && . .venv/bin/activate && pip install -r {Path(__file__).with_name('requirements.txt')}"
        )
    return versions


class MissingDependencies(ExportError):
    pass


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
            f"  pip install -r {Path(__file__).with_name('requirements.txt')}\n"
            "or export without --fp16. onnxconverter-common's converter is no substitute: ONNX Runtime refuses to load "
            "the UNet it writes (float32 casts and weights left inside the float16 graph)."
        ) from e
    return list(DEFAULT_OP_BLOCK_LIST), convert_float_to_float16


def log(msg: str) -> None:
    print(msg, flush=True)


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


def make_wrappers() -> Dict[str, Any]:
    """The four export modules, each exactly the step of diffusers' AudioLDMPipeline it replaces (research §3)."""
    import torch
    import torch.nn.functional as F

    class TextEncoder(torch.nn.Module):
        """CLAP text branch → projection → L2 norm, as AudioLDMPipeline._encode_prompt (research §3.1)."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            embeds = self.model(input_ids=input_ids, attention_mask=attention_mask, return_dict=True).text_embeds
            # diffusers: "additional L_2 normalization over each hidden-state"; x / max(‖x‖₂, 1e-12).
            return F.normalize(embeds, dim=-1)

    class Unet(torch.nn.Module):
        """ε(sample, t, class_labels), no cross-attention context (research §0, §3.2)."""

        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, sample: Any, timestep: Any, class_labels: Any) -> Any:
            return self.model(sample, timestep, encoder_hidden_states=None, class_labels=class_labels, return_dict=False)[0]

    class VaeDecoder(torch.nn.Module):
        """latent / scaling_factor → post_quant_conv → decoder (research §3.3; the factor is baked in)."""

        def __init__(self, vae: Any, scaling_factor: float) -> None:
            super().__init__()
            self.vae = vae
            self.inverse_scale = 1.0 / scaling_factor

        def forward(self, latent: Any) -> Any:
            return self.vae.decode(self.inverse_scale * latent, return_dict=False)[0]

    class Vocoder(torch.nn.Module):
        """SpeechT5HifiGan on mel [B, F, 64] → waveform [B, 160·F + 32] (research §3.4)."""

        def __init__(self, vocoder: Any) -> None:
            super().__init__()
            self.vocoder = vocoder

        def forward(self, mel: Any) -> Any:
            return self.vocoder(mel)

    return {"textEncoder": TextEncoder, "unet": Unet, "vaeDecoder": VaeDecoder, "vocoder": Vocoder}


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


def verify_signature(path: Path, specs: Dict[str, Any]) -> None:
    import onnx

    problems = compare_signature(specs, graph_signature(onnx.load(str(path), load_external_data=False)))
    if problems:
        raise ExportError(f"{path.name} does not match its manifest entry:\n  - " + "\n  - ".join(problems))


def ort_session(path: Path, ort_device: str) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    providers = ["CPUExecutionProvider"]
    if ort_device == "cuda":
        providers.insert(0, "CUDAExecutionProvider")
    return ort.InferenceSession(str(path), options, providers=providers)


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


def probe_heads(parts: Dict[str, Any], unets: Dict[str, Any], sched: Dict[str, Any], device: str) -> Dict[str, Any]:
    """
    Which head split denoises better (research §7.7, §9.1)? Encodes four synthetic clips with the checkpoint's own VAE
    encoder, noises them at a few timesteps and measures the ε-prediction MSE of each UNet variant, unconditionally.
    The split the weights were trained with should predict the noise better. Evidence, not proof: it warns, never fails.
    """
    import numpy as np
    import torch
    import torch.nn.functional as F

    voc = parts["vocoder"].config
    sr, hop, mels = int(voc.sampling_rate), vocoder_hop(voc.to_dict()), int(voc.model_in_dim)
    clips = synthetic_test_audio(sr, NATIVE_WINDOW_FRAMES * 4 * hop / sr)
    feats = np.stack([log_mel(c, sr, 1024, hop, mels, 0.0, sr / 2, NATIVE_WINDOW_FRAMES * 4) for _, c in clips])
    tok = parts["tokenizer"]([""], return_tensors="pt")
    a = alphas_cumprod(scheduler_block(sched))
    rows = []
    with torch.no_grad():
        vae = parts["vae"]
        x = torch.from_numpy(feats)[:, None].to(device)
        z0 = vae.encode(x).latent_dist.mode() * float(vae.config.scaling_factor)
        uncond = parts["text_encoder"](input_ids=tok["input_ids"].to(device), attention_mask=tok["attention_mask"].to(device)).text_embeds
        uncond = F.normalize(uncond, dim=-1).expand(z0.shape[0], -1)
        gen = torch.Generator(device="cpu").manual_seed(0)
        for t in (100, 300, 600):
            eps = torch.randn(z0.shape, generator=gen).to(device)
            xt = math.sqrt(a[t]) * z0 + math.sqrt(1.0 - a[t]) * eps
            ts = torch.full((z0.shape[0],), float(t), device=device)
            row: Dict[str, Any] = {"t": t}
            for variant, unet in unets.items():
                pred = unet(xt, ts, encoder_hidden_states=None, class_labels=uncond, return_dict=False)[0]
                row[variant] = float(torch.mean((pred - eps) ** 2))
            rows.append(row)
    means = {v: sum(r[v] for r in rows) / len(rows) for v in unets}
    return {"clips": [name for name, _ in clips], "rows": rows, "meanMse": means, "better": min(means, key=means.get)}


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def print_check_table(rows: List[Dict[str, Any]]) -> None:
    log(f"{'graph':<12} {'case':<18} {'max|Δ|':>10} {'max|ref|':>10} {'rel rms':>10} {'tol':>8}  result")
    for r in rows:
        if "maxAbsErr" in r:
            log(f"{r['graph']:<12} {r['case']:<18} {r['maxAbsErr']:>10.3e} {r['maxAbsRef']:>10.3e} {r['relRms']:>10.3e} "
                f"{r['tol']:>8.1e}  {'ok' if r['ok'] else 'FAIL'}")
        else:
            log(f"{r['graph']:<12} {r['case']:<18} {'':>10} {'':>10} {'':>10} {'':>8}  {'ok' if r['ok'] else 'FAIL'}"
                + (f"  {r['error']}" if r.get("error") else ""))


def run_export(args: argparse.Namespace) -> int:
    versions = require_dependencies()
    if args.fp16:
        fp16_converter()  # before any download or tracing
    import numpy as np
    import torch

    started = time.time()
    source, is_local = resolve_model(args.model)
    out = Path(args.out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    manifest_path = out / MANIFEST_FILE
    if manifest_path.exists():
        manifest_path.unlink()  # a failed run must not leave an old manifest beside new graphs
    torch.backends.cudnn.allow_tf32 = False  # full fp32 references for the check
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.set_grad_enabled(False)

    folder, revision = fetch_checkpoint(source, is_local, args.revision)
    log(f"loading {folder}")
    parts = load_checkpoint(folder, args.device)
    configs = config_dicts(parts)
    unet_cfg = configs["unet"]
    block = list(unet_cfg["block_out_channels"])
    head_channels = args.head_channels or default_head_channels(block)
    split = {"original": original_head_split(block, head_channels), "diffusers": diffusers_head_split(unet_cfg)}
    heads = split[args.heads]
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

    # Sanity of the checkpoint against the manifest before spending time on the export.
    pack_id = args.pack_id or default_pack_id(source, args.fp16)
    placeholder = {f: "0" * 64 for f in [TOKENIZER_FILE, *FILES.values()]}
    draft = build_manifest(configs, placeholder, source=source, revision=revision, pack_id=pack_id, fp16=args.fp16,
                           heads_mode=args.heads, heads=heads, head_channels=head_channels)
    problems = validate_manifest(draft)
    if problems:
        raise ExportError("the manifest would be invalid:\n  - " + "\n  - ".join(problems))
    specs = {k: {"inputs": draft["components"][k]["inputs"], "outputs": draft["components"][k]["outputs"]} for k in FILES}

    wrappers = make_wrappers()
    modules = {
        "textEncoder": wrappers["textEncoder"](parts["text_encoder"]).eval(),
        "unet": wrappers["unet"](unet).eval(),
        "vaeDecoder": wrappers["vaeDecoder"](parts["vae"], float(configs["vae"]["scaling_factor"])).eval(),
        "vocoder": wrappers["vocoder"](parts["vocoder"]).eval(),
    }
    tok = parts["tokenizer"]
    vocab = (int(configs["text_encoder"].get("vocab_size", len(tok))), int(tok.pad_token_id), 4)
    metadata = {"tessera.source": source, "tessera.revision": revision, "tessera.exporter": EXPORTER_VERSION,
                "tessera.licence": f"{LICENCE_NAME} {LICENCE_URL}", "tessera.attention_heads": args.heads}
    written: Dict[str, List[Path]] = {}
    external: Dict[str, List[str]] = {}
    work = Path(tempfile.mkdtemp(prefix=".export-tmp-", dir=str(out)))
    report: Dict[str, Any] = {"source": source, "revision": revision, "exporter": EXPORTER_VERSION, "versions": versions,
                              "heads": {"exported": args.heads, "headChannels": head_channels, **split}, "checks": []}
    try:
        for key, module in modules.items():
            t0 = time.time()
            raw_dir = work / key
            raw_dir.mkdir()
            raw = raw_dir / FILES[key]
            log(f"exporting {FILES[key]} (trace at {TRACE_SHAPES[key]})")
            export_graph(module, example_inputs(key, specs[key], TRACE_SHAPES[key], args.device, vocab), raw, specs[key])
            fp16 = args.fp16 and key == "unet"
            written[key] = finalize_graph(raw, out / FILES[key], fp16=fp16, metadata=metadata)
            shutil.rmtree(raw_dir)
            verify_signature(out / FILES[key], specs[key])
            external[key] = external_data_files(graph_external_refs(out / FILES[key]), FILES[key])
            missing = [f for f in external[key] if not (out / f).is_file()]
            if missing:
                raise ExportError(f"{FILES[key]} refers to external data {', '.join(missing)} that is not in {out}; "
                                  "the save did not complete (disk full?): free disk space and run the export again")
            size = sum(p.stat().st_size for p in written[key])
            log(f"  wrote {', '.join(p.name for p in written[key])} ({size / 1e6:.1f} MB, {time.time() - t0:.0f} s)")

        backend = tok.backend_tokenizer
        backend.no_padding()
        backend.enable_truncation(max_length=int(draft["tokenizer"]["maxLength"]))
        backend.save(str(out / TOKENIZER_FILE))

        # Every graph opens in ONNX Runtime with the manifest's tensors, with or without --check: a pack is never
        # reported done (or given a manifest) when Tessera could not load it. CPU provider: what Tessera runs on.
        log("opening every graph in ONNX Runtime (CPU) …")
        load_problems = check_pack_loads([(FILES[k], out / FILES[k], specs[k]) for k in FILES],
                                         lambda path: ort_session(path, "cpu"))
        report["load"] = load_problems or "ok"
        if load_problems:
            (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
            raise ExportError(load_failure_message(load_problems, str(out), args.fp16))
        log("  all four graphs load and match the manifest")

        if args.check:
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
            report["checks"] = rows
            if probing:
                log("probing the attention-head split on synthetic audio (research §7.7) …")
                try:
                    probe = probe_heads(parts, unets, configs["scheduler"], args.device)
                    report["headProbe"] = probe
                    for r in probe["rows"]:
                        log(f"  t={r['t']:>4}  ε-MSE original {r['original']:.5f}  diffusers {r['diffusers']:.5f}")
                    verdict = probe["verdict"] = head_probe_verdict(probe["meanMse"], args.heads)
                    log(verdict["message"] if verdict["advise"] else f"  {verdict['message']}")
                except Exception as e:  # evidence only: never blocks an export that passed its checks
                    log(f"WARNING: head probe failed ({type(e).__name__}: {e}); the export is unaffected")
                    report["headProbe"] = {"error": f"{type(e).__name__}: {e}"}
            failed = [r for r in rows if not r["ok"]]
            if failed:
                (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
                raise ExportError(
                    f"{len(failed)} check(s) failed (see the table and {REPORT_FILE}); manifest.json was NOT written. "
                    "Raise the tolerance with --atol / --fp16-atol only if the errors are understood."
                )
        else:
            log("WARNING: --no-check: the graphs load in ONNX Runtime but were not compared with PyTorch")

        hashes = {TOKENIZER_FILE: sha256_file(out / TOKENIZER_FILE)}
        for key in FILES:
            hashes[FILES[key]] = sha256_file(out / FILES[key])
            for f in external[key]:
                hashes[f] = sha256_file(out / f)
        manifest = build_manifest(configs, hashes, source=source, revision=revision, pack_id=pack_id, fp16=args.fp16,
                                  heads_mode=args.heads, heads=heads, head_channels=head_channels,
                                  external_data=external)
        problems = validate_manifest(manifest)
        if problems:
            raise ExportError("manifest invalid:\n  - " + "\n  - ".join(problems))
        (out / LICENCE_FILE).write_text(manifest["licence"]["text"])
        report["files"] = {p.name: p.stat().st_size for paths in written.values() for p in paths}
        report["seconds"] = round(time.time() - started, 1)
        (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
        tmp = out / (MANIFEST_FILE + ".tmp")
        tmp.write_text(json.dumps(manifest, indent=2) + "\n")
        os.replace(tmp, manifest_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    external_files = [f for files in external.values() for f in files]
    log(f"done in {time.time() - started:.0f} s: {out}")
    if external_files:
        log(f"note: {', '.join(external_files)} hold(s) external weights: keep them beside their .onnx file")
    log(f"import into Tessera with:  npm run models -- import {out}")
    return EXIT_OK


# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════
# Command line
# ═════════════════════════════════════════════════════════════════════════════════════════════════════════════════


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="export_audioldm.py",
        description="Export an AudioLDM v1 checkpoint (diffusers) to a Tessera model pack: four ONNX graphs "
                    "(opset 17), tokenizer.json and manifest.json. Needs PyTorch and the packages of requirements.txt, "
                    "and internet access for the download (once).",
        epilog="Examples:\n"
               "  python3 export_audioldm.py --model s-full-v2 --out packs/audioldm-s-full-v2\n"
               "  python3 export_audioldm.py --model l-full --fp16 --device cuda --out packs/audioldm-l-full-fp16\n"
               "Then: npm run models -- import <out>.  Weights: CC BY-NC-SA 4.0 (non-commercial). See README.md.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", default="s-full-v2", metavar="MODEL",
                   help="s-full-v2, m-full, l-full (cvssp/audioldm-…), another hub repo id (owner/name) or a local "
                        "diffusers checkpoint folder (default: s-full-v2)")
    p.add_argument("--out", metavar="DIR", help="pack folder to write (created; required unless --selftest)")
    p.add_argument("--revision", help="hub revision (branch, tag or commit) to export; default: the main branch")
    p.add_argument("--fp16", action="store_true",
                   help="convert the UNet to float16 (GroupNorm/LayerNorm/Softmax and the timestep embedding stay "
                        "float32; I/O stays float32) with onnxruntime.transformers.float16; the other graphs stay "
                        "float32")
    p.add_argument("--device", default="cpu", help="PyTorch device for tracing and the reference outputs: cpu, cuda, "
                                                    "cuda:1, mps (default: cpu)")
    p.add_argument("--check", action=argparse.BooleanOptionalAction, default=True,
                   help="compare every graph with PyTorch on random inputs in ONNX Runtime and stop before the "
                        "manifest if one is over its tolerance (default: on). --no-check skips only this comparison: "
                        "every graph is still opened in ONNX Runtime and checked against the manifest")
    p.add_argument("--atol", type=float, metavar="X",
                   help="max |ONNX − PyTorch| allowed for every float32 graph (default per graph: text encoder 1e-4, "
                        "UNet 1e-3, VAE decoder 2e-3, vocoder 1e-3)")
    p.add_argument("--fp16-atol", type=float, default=DEFAULT_FP16_ATOL, metavar="X",
                   help=f"max |ONNX − PyTorch fp32| for the fp16 UNet (default {DEFAULT_FP16_ATOL})")
    p.add_argument("--heads", choices=["original", "diffusers"], default="original",
                   help="attention head split of the UNet (README, 'Attention heads'): 'original' = AudioLDM's own "
                        "code (32 channels per head, 64 for L), 'diffusers' = diffusers' 8 heads per level "
                        "(default: original)")
    p.add_argument("--head-channels", type=int, metavar="N",
                   help="channels per head for --heads original (default: 32 for S/M, 64 for L)")
    p.add_argument("--probe-heads", action=argparse.BooleanOptionalAction, default=True,
                   help="with --check, compare both head splits' noise prediction on synthetic audio and warn if the "
                        "other split does better (default: on)")
    p.add_argument("--ort-device", choices=["cpu", "cuda"], default="cpu",
                   help="ONNX Runtime provider for the check (cuda needs onnxruntime-gpu; default: cpu)")
    p.add_argument("--pack-id", metavar="ID", help="manifest id (default: the repo name, '-fp16' appended with --fp16)")
    p.add_argument("--selftest", action="store_true",
                   help="no export: build a manifest from built-in copies of the --model configs, run the pure-Python "
                        "checks and print JSON (needs no third-party package)")
    args = p.parse_args(argv)
    if not args.selftest and not args.out:
        p.error("--out DIR is required (or --selftest)")
    if args.pack_id is not None and not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", args.pack_id):
        p.error("--pack-id must be lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    if args.head_channels is not None and args.head_channels < 1:
        p.error("--head-channels must be ≥ 1")
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    try:
        return run_selftest(args) if args.selftest else run_export(args)
    except MissingDependencies as e:
        print(f"export_audioldm: {e}", file=sys.stderr)
        return EXIT_MISSING_DEPENDENCIES
    except (ExportError, AssertionError) as e:
        print(f"export_audioldm: {e}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
