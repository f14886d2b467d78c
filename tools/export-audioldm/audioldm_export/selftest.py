"""
`--selftest`: no export. Builds a manifest from built-in copies of the checkpoints' configs and runs the pure-Python
checks of the numbers the manifest and the export rely on; prints JSON. CI runs it without any third-party package
(tests/tools/export-audioldm.test.ts).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
from typing import Any, Dict, List

from .checkpoint import MODEL_ALIASES, default_pack_id, resolve_model
from .constants import FILES, MANIFEST_FILE, TOKENIZER_FILE
from .errors import EXIT_OK, ExportError
from .external_data import EXTERNAL_DATA_THRESHOLD, external_data_file_name, external_data_files
from .fp16 import ONNX_FLOAT, ONNX_FLOAT16, collapse_cast_round_trips, fp16_block_nodes, topological_order
from .head_probe import head_probe_verdict
from .heads import attention_levels, default_head_channels, diffusers_head_split, original_head_split
from .manifest import build_manifest
from .manifest_schema import validate_manifest
from .mel import hz_to_mel, log_mel, mel_filterbank, mel_to_hz, synthetic_test_audio
from .ort_checks import ORT_TYPES, check_pack_loads, load_failure_message
from .receptive_fields import (vae_decoder_halo_latent_frames, vocoder_extra_samples, vocoder_halo_mel_frames,
                               vocoder_hop, vocoder_output_length)
from .scheduler import alphas_cumprod, scheduler_block
from .specs import compare_signature, tensor_specs

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
    """The config dicts of `repo` (S, M or L): S's hub configs with the model's block widths and VAE scale."""
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
    """A selftest assertion that survives `python -O`."""
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
    """What ONNX Runtime's InferenceSession offers the load check: its inputs and outputs."""

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
