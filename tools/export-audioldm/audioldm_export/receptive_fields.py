"""
Lengths and receptive fields from the checkpoint's configs (research §1, longform §5.3, §6): the vocoder's output
length and the decode halos of the VAE decoder and the vocoder, traced layer by layer.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

from .errors import ExportError


def vocoder_stages(voc: Dict[str, Any]) -> List[Tuple[int, int, int]]:
    """(kernel, rate, padding) of each ConvTranspose1d of SpeechT5HifiGan: padding (k − u) // 2."""
    return [(int(k), int(u), (int(k) - int(u)) // 2) for u, k in zip(voc["upsample_rates"], voc["upsample_kernel_sizes"])]


def vocoder_hop(voc: Dict[str, Any]) -> int:
    """Samples per mel frame: the product of the upsample rates (160 for AudioLDM)."""
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
    """Parallel branches summed (HiFi-GAN's MRF): the union of what each chain reads."""
    def span(lo: int, hi: int) -> Tuple[int, int]:
        ends = [_trace_back(chain, lo, hi) for chain in chains]
        return min(e[0] for e in ends), max(e[1] for e in ends)

    return span


def _trace_back(layers: List[Span], lo: int, hi: int) -> Tuple[int, int]:
    """Input range that the output range [lo, hi] of `layers` (first to last) reads."""
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
