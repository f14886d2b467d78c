"""The four modules that are exported, one per graph of the audioldm contract (research §3); torch imported lazily."""
from __future__ import annotations

from typing import Any, Dict


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
