"""The manifest's scheduler block from a diffusers scheduler config, and its ᾱ table (research §1 "Scheduler", §4)."""
from __future__ import annotations

import math
from typing import Any, Dict, List

from .errors import ExportError


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
