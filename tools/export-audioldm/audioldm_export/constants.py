"""The pack's file names and the numbers several parts of the export share ("research §N": see __init__.py)."""
from __future__ import annotations

from pathlib import Path

EXPORTER_VERSION = "1.0.0"
# Opset 17: LayerNormalization is native, GroupNorm still exports as Reshape → InstanceNormalization → Reshape →
# Mul → Add (opset 18 would emit GroupNormalization). Tessera's shared-statistics VAE decoding rewrites exactly that
# pattern (src-main/packs/graph/groupnorm-stats.ts), and research §7.2/§7.3 ask for opset ≥ 17.
OPSET = 17
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
# The packages the export needs, beside the entry script (named in every "install …" message).
REQUIREMENTS_FILE = Path(__file__).parent.with_name("requirements.txt")

# Training window: 1024 mel frames = 10.24 s = 256 latent frames (research §1, "training clip"; original
# `target_length` 1024, `latent_t_size` 256). Not in the diffusers configs (unet.sample_size 128 is only diffusers'
# default length of 5.12 s, research §9.5), hence a constant.
NATIVE_WINDOW_FRAMES = 256

LICENCE_NAME = "CC BY-NC-SA 4.0"
LICENCE_URL = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
