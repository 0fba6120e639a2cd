"""Text encoders for KF2P conditioning: strings -> (B, 640) float32.

- ``NullTextEncoder``: the null condition (all zeros), what the network sees with no text.
- ``MClipTextEncoder``: the official M-CLIP ``XLM-Roberta-Large-Vit-B-16Plus`` rebuilt from the
  ``text_enc_model.*`` tensors of an official checkpoint (SPEC section 3: use the checkpoint's
  copy, EMA drifted it from Hugging Face's) plus a *local* XLM-R tokenizer directory. It needs
  the optional ``transformers`` package (and ``sentencepiece`` for a tokenizer directory without
  ``tokenizer.json``), imported only when one is built; nothing is ever downloaded.

The official prompt is ``f"<{language}> {text}"`` (``format_prompt``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import LoadError

if TYPE_CHECKING:  # torch is imported lazily (core must import without it)
    from torch import Tensor

__all__ = ["TEXT_DIM", "TextEncoderError", "format_prompt", "NullTextEncoder", "MClipTextEncoder", "xlmr_sizes"]

TEXT_DIM = 640


class TextEncoderError(LoadError):
    """A text encoder cannot be built (missing package, tokenizer or weights)."""


def format_prompt(text: str, language: str | None) -> str:
    """Official prompt format (``specify_lang=True``): ``"<CSL> the sentence"``."""
    return text if language is None else f"<{language}> {text}"


class NullTextEncoder:
    """No text: the all-zero embedding (the network's null condition is ``embed_text.bias``)."""

    dim = TEXT_DIM

    def __call__(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, device: str | None = None
    ) -> Tensor:
        import torch

        return torch.zeros(len(texts), TEXT_DIM, device=device)


# What the shapes cannot tell (XLM-R's fixed choices; transformers defaults otherwise).
_XLMR_FIXED = dict(layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2)
# Attention heads are not visible in the weights (Q/K/V are hidden x hidden): XLM-R base and
# large both use 64-dim heads (large: 1024 / 64 = 16), so heads = hidden // 64.
_HEAD_DIM = 64
_EMB = "transformer.embeddings."
_LAYER = "transformer.encoder.layer."
_POOLER = "transformer.pooler."  # stored but unused: M-CLIP mean-pools last_hidden_state


def _shape(state: Mapping[str, Tensor], key: str) -> tuple[int, ...]:
    if key not in state:
        raise TextEncoderError(f"M-CLIP weights: missing {key!r}")
    return tuple(state[key].shape)


def xlmr_sizes(state: Mapping[str, Tensor]) -> dict[str, int]:
    """XLM-R sizes from the M-CLIP tensors (``text_enc_model.`` stripped), as
    ``XLMRobertaConfig`` keywords. The released checkpoints give exactly XLM-R large: vocab
    250002, hidden 1024, 24 layers, 16 heads, intermediate 4096, 514 positions."""
    vocab, hidden = _shape(state, _EMB + "word_embeddings.weight")
    positions = _shape(state, _EMB + "position_embeddings.weight")[0]
    type_vocab = _shape(state, _EMB + "token_type_embeddings.weight")[0]
    if hidden % _HEAD_DIM:
        raise TextEncoderError(
            f"M-CLIP weights: hidden size {hidden} is not a multiple of {_HEAD_DIM} (XLM-R head size)"
        )
    layers = {int(k[len(_LAYER) :].split(".", 1)[0]) for k in state if k.startswith(_LAYER)}
    if not layers or layers != set(range(len(layers))):
        raise TextEncoderError(f"M-CLIP weights: encoder layers {sorted(layers)[:5]} are not 0..n-1")
    intermediate = _shape(state, f"{_LAYER}0.intermediate.dense.weight")[0]
    if positions <= _XLMR_FIXED["pad_token_id"] + 1:
        raise TextEncoderError(f"M-CLIP weights: only {positions} position embeddings")
    return dict(
        vocab_size=vocab,
        hidden_size=hidden,
        num_hidden_layers=len(layers),
        num_attention_heads=hidden // _HEAD_DIM,
        intermediate_size=intermediate,
        max_position_embeddings=positions,
        type_vocab_size=type_vocab,
    )


def _load_tokenizer(transformers, tok_dir: Path):
    """The XLM-R tokenizer from a local directory: ``tokenizer.json`` (fast, as Hugging Face
    ships it) or ``sentencepiece.bpe.model`` (slow; converting it to fast would need protobuf)."""
    if (tok_dir / "tokenizer.json").is_file():
        cls = transformers.XLMRobertaTokenizerFast
    elif (tok_dir / "sentencepiece.bpe.model").is_file():
        cls = transformers.XLMRobertaTokenizer
    else:
        raise TextEncoderError(
            f"{tok_dir}: no tokenizer.json or sentencepiece.bpe.model (not an XLM-R tokenizer directory)"
        )
    try:
        return cls.from_pretrained(str(tok_dir), local_files_only=True)
    except (OSError, ValueError, ImportError, RuntimeError, TypeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise TextEncoderError(f"{tok_dir}: cannot load the XLM-R tokenizer ({first[:200]})") from e


class MClipTextEncoder:
    """M-CLIP text tower: XLM-R, attention-masked mean over tokens (``<s>``/``</s>``
    included), then ``LinearTransformation`` hidden -> 640 (XLM-R large, 1024, for the release).

    ``state``: the checkpoint's ``text_enc_model.*`` tensors with the prefix stripped
    (``OfficialCheckpoint.text_encoder_state``): ``transformer.*`` and
    ``LinearTransformation.{weight,bias}``; the model size is read from their shapes
    (``xlmr_sizes``). ``tokenizer_dir``: a local directory holding the XLM-R tokenizer files.
    The model's parameters are the state's tensors (no copy when they are float32 on ``device``).
    """

    def __init__(self, tokenizer_dir: str | os.PathLike[str], state: Mapping[str, Tensor], device: str = "cpu") -> None:
        try:
            import transformers  # optional dependency, imported only here
        except ImportError as e:
            raise TextEncoderError(
                "the M-CLIP text encoder needs the 'transformers' package "
                "(pip install transformers sentencepiece); use NullTextEncoder for no text"
            ) from e
        import torch

        tok_dir = Path(tokenizer_dir)
        if not tok_dir.is_dir():
            raise TextEncoderError(f"{tok_dir}: XLM-R tokenizer directory not found")
        if "LinearTransformation.weight" not in state or "LinearTransformation.bias" not in state:
            raise TextEncoderError(
                "no M-CLIP weights: LinearTransformation.{weight,bias} missing "
                "(the checkpoint has no text_enc_model.* tensors?)"
            )
        sizes = xlmr_sizes(state)
        w, b = state["LinearTransformation.weight"], state["LinearTransformation.bias"]
        if tuple(w.shape) != (TEXT_DIM, sizes["hidden_size"]) or tuple(b.shape) != (TEXT_DIM,):
            raise TextEncoderError(
                f"M-CLIP weights: LinearTransformation is {tuple(w.shape)} + "
                f"{tuple(b.shape)}, expected ({TEXT_DIM}, {sizes['hidden_size']})"
            )
        self.tokenizer = _load_tokenizer(transformers, tok_dir)
        n_tok, pad = len(self.tokenizer), self.tokenizer.pad_token_id
        if pad != _XLMR_FIXED["pad_token_id"] or n_tok > sizes["vocab_size"]:
            raise TextEncoderError(
                f"{tok_dir}: tokenizer (pad id {pad}, {n_tok} tokens) does not fit "
                f"the M-CLIP weights (pad id 1, {sizes['vocab_size']} tokens)"
            )

        cfg = transformers.XLMRobertaConfig(**sizes, **_XLMR_FIXED)
        # Built on the meta device, then the state's tensors are assigned: no random init of
        # 560M parameters and no second copy of them.
        with torch.device("meta"):
            model = transformers.XLMRobertaModel(cfg, add_pooling_layer=False)
        tf_state = {
            k[len("transformer.") :]: v.float()
            for k, v in state.items()
            if k.startswith("transformer.") and not k.startswith(_POOLER)
        }
        missing, unexpected = model.load_state_dict(tf_state, strict=False, assign=True)
        params = {n for n, _ in model.named_parameters()}
        if unexpected or any(k in params for k in missing):
            raise TextEncoderError(
                f"M-CLIP weights do not fit XLM-R (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        # Non-persistent buffers are never stored (SPEC section 7): rebuild them.
        emb = model.embeddings
        n_pos = cfg.max_position_embeddings
        emb.register_buffer("position_ids", torch.arange(n_pos).expand(1, -1), persistent=False)
        emb.register_buffer("token_type_ids", torch.zeros(1, n_pos, dtype=torch.long), persistent=False)
        still_meta = [n for n, t in [*model.named_parameters(), *model.named_buffers()] if t.is_meta]
        if still_meta:
            raise TextEncoderError(
                f"M-CLIP weights: {still_meta[0]!r} was not loaded "
                f"(unsupported transformers {transformers.__version__}?)"
            )
        self.transformer = model.requires_grad_(False).to(device).eval()
        self.linear = torch.nn.Linear(w.shape[1], w.shape[0], device=device)
        with torch.no_grad():
            self.linear.weight.copy_(w)
            self.linear.bias.copy_(b)
        self.linear.eval()
        self.device = device
        # Positions start after the padding index (XLM-R): 514 embeddings -> 512 tokens.
        self.max_tokens = n_pos - _XLMR_FIXED["pad_token_id"] - 1

    @classmethod
    def from_checkpoint(
        cls, checkpoint, tokenizer_dir: str | os.PathLike[str], device: str = "cpu"
    ) -> MClipTextEncoder:
        """From an ``OfficialCheckpoint`` (``load_official``); errors name its file."""
        try:
            return cls(tokenizer_dir, checkpoint.text_encoder_state, device)
        except TextEncoderError as e:
            raise TextEncoderError(f"{checkpoint.path}: {e}") from e

    def __call__(
        self, texts: Sequence[str], languages: Sequence[str | None] | None = None, device: str | None = None
    ) -> Tensor:
        """texts (B strings), languages (B tags or None) -> (B, 640)."""
        import torch

        langs = list(languages) if languages is not None else [None] * len(texts)
        prompts = [format_prompt(t, lang) for t, lang in zip(texts, langs, strict=True)]
        if not prompts:
            return torch.zeros(0, TEXT_DIM, device=device or self.device)
        # padding to the longest in the batch, no truncation (official).
        tok = self.tokenizer(prompts, padding=True, return_tensors="pt").to(self.device)
        lengths = tok["attention_mask"].sum(dim=1)
        if int(lengths.max()) > self.max_tokens:
            i = int(lengths.argmax())
            raise TextEncoderError(f"text {i} is {int(lengths[i])} tokens; M-CLIP takes at most {self.max_tokens}")
        with torch.no_grad():
            h = self.transformer(**tok).last_hidden_state  # (B, L, hidden)
            m = tok["attention_mask"].unsqueeze(-1).to(h.dtype)
            pooled = (h * m).sum(dim=1) / m.sum(dim=1)
            out = self.linear(pooled)
        return out if device is None else out.to(device)
