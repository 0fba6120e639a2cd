"""Text encoders for KF2P conditioning: strings -> (B, 640) float32.

- ``NullTextEncoder``: the null condition (all zeros), what the network sees with no text.
- ``MClipTextEncoder``: the official M-CLIP ``XLM-Roberta-Large-Vit-B-16Plus`` rebuilt from the
  ``text_enc_model.*`` tensors of an official checkpoint (SPEC section 3: use the checkpoint's
  copy, EMA drifted it from Hugging Face's) plus a *local* XLM-R tokenizer directory. It needs
  the optional ``transformers`` package; nothing is ever downloaded.

The official prompt is ``f"<{language}> {text}"`` (``format_prompt``).
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:  # torch is imported lazily (core must import without it)
    from torch import Tensor

__all__ = ["TEXT_DIM", "TextEncoderError", "format_prompt", "NullTextEncoder", "MClipTextEncoder"]

TEXT_DIM = 640


class TextEncoderError(RuntimeError):
    """A text encoder cannot be built (missing package, tokenizer or weights)."""


def format_prompt(text: str, language: str | None) -> str:
    """Official prompt format (``specify_lang=True``): ``"<CSL> the sentence"``."""
    return text if language is None else f"<{language}> {text}"


class NullTextEncoder:
    """No text: the all-zero embedding (the network's null condition is ``embed_text.bias``)."""

    dim = TEXT_DIM

    def __call__(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
                 device: str | None = None) -> "Tensor":
        import torch

        return torch.zeros(len(texts), TEXT_DIM, device=device)


# XLM-R large, as used by M-CLIP (transformers defaults otherwise).
_XLMR_LARGE = dict(vocab_size=250002, hidden_size=1024, num_hidden_layers=24, num_attention_heads=16,
                   intermediate_size=4096, max_position_embeddings=514, type_vocab_size=1,
                   layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)


class MClipTextEncoder:
    """M-CLIP text tower: XLM-R large, attention-masked mean over tokens (``<s>``/``</s>``
    included), then ``LinearTransformation`` 1024 -> 640.

    ``state``: the checkpoint's ``text_enc_model.*`` tensors with the prefix stripped
    (``OfficialCheckpoint.text_encoder_state``): ``transformer.*`` and
    ``LinearTransformation.{weight,bias}``. ``tokenizer_dir``: a local directory holding the
    XLM-R tokenizer files (``AutoTokenizer.from_pretrained(dir, local_files_only=True)``).
    """

    def __init__(self, tokenizer_dir: str | os.PathLike[str], state: Mapping[str, "Tensor"],
                 device: str = "cpu") -> None:
        try:
            import transformers  # optional dependency, imported only here
        except ImportError as e:
            raise TextEncoderError(
                "the M-CLIP text encoder needs the 'transformers' package "
                "(pip install transformers); use NullTextEncoder for no text") from e
        import torch

        tok_dir = Path(tokenizer_dir)
        if not tok_dir.is_dir():
            raise TextEncoderError(f"{tok_dir}: XLM-R tokenizer directory not found")
        if "LinearTransformation.weight" not in state:
            raise TextEncoderError("no M-CLIP weights: the checkpoint has no text_enc_model.* tensors")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(str(tok_dir), local_files_only=True)
        except (OSError, ValueError) as e:
            raise TextEncoderError(f"{tok_dir}: cannot load the XLM-R tokenizer ({e})") from e

        cfg = transformers.XLMRobertaConfig(**_XLMR_LARGE)
        self.transformer = transformers.XLMRobertaModel(cfg, add_pooling_layer=True)
        tf_state = {k[len("transformer."):]: v for k, v in state.items() if k.startswith("transformer.")}
        # Buffers (position_ids, token_type_ids) may be missing: they are not stored.
        missing, unexpected = self.transformer.load_state_dict(tf_state, strict=False)
        params = {n for n, _ in self.transformer.named_parameters()}
        if unexpected or any(k in params for k in missing):
            raise TextEncoderError(f"M-CLIP weights do not fit XLM-R large "
                                   f"(missing {missing[:3]}, unexpected {unexpected[:3]})")
        w, b = state["LinearTransformation.weight"], state["LinearTransformation.bias"]
        self.linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            self.linear.weight.copy_(w)
            self.linear.bias.copy_(b)
        self.device = device
        self.transformer.to(device).eval()
        self.linear.to(device).eval()

    def __call__(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
                 device: str | None = None) -> "Tensor":
        """texts (B strings), languages (B tags or None) -> (B, 640)."""
        import torch

        langs = list(languages) if languages is not None else [None] * len(texts)
        prompts = [format_prompt(t, lang) for t, lang in zip(texts, langs, strict=True)]
        # padding to the longest in the batch, no truncation (official).
        tok = self.tokenizer(prompts, padding=True, return_tensors="pt").to(self.device)
        with torch.no_grad():
            h = self.transformer(**tok).last_hidden_state  # (B, L, 1024)
            m = tok["attention_mask"].unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(dim=1) / m.sum(dim=1)
            out = self.linear(pooled)
        return out if device is None else out.to(device)
