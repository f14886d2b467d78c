"""
A Python mirror of ManifestSchema (src-main/contract/manifest.ts), run before manifest.json is written.
"""
from __future__ import annotations

import math
import re
from typing import Any, Iterable, List, Optional

from .constants import FILES


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
