"""
The head probe (research §7.7, §9.1): both head splits predict the noise of synthetic audio, and the verdict on the
exported split. Evidence, not proof: it warns, never fails an export.
"""
from __future__ import annotations

import math
from typing import Any, Dict

from .constants import NATIVE_WINDOW_FRAMES
from .mel import log_mel, synthetic_test_audio
from .receptive_fields import vocoder_hop
from .scheduler import alphas_cumprod, scheduler_block

# The head probe advises re-exporting with the other split only when that split's mean ε-MSE is lower by more than
# this fraction. What the probe compares: both UNets get the same noised latents and the same noise, so any difference
# comes from the head split itself. Float32 rounding of the two attention groupings moves the mean by parts per
# million, and one noise draw over four synthetic clips cannot rank two splits whose errors are within a fraction of a
# percent; a split the weights were not trained with regroups every attention score of the levels that differ and is
# expected to cost percents. Below 1 % the probe is no evidence either way.
HEAD_PROBE_MARGIN = 0.01


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
