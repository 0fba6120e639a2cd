"""MClipTextEncoder on a tiny XLM-R built offline: a sentencepiece tokenizer trained here and a
seeded random model in the checkpoint's ``text_enc_model.*`` layout (SPEC.md section 3).

The reference embedding is computed independently: sentencepiece ids with the XLM-R (fairseq)
id mapping, one prompt at a time (no padding), mean over its tokens, then the linear layer.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip(
    "transformers", reason="the M-CLIP encoder needs transformers (pip install -e '.[dev]')"
)
spm = pytest.importorskip(
    "sentencepiece", reason="the tiny XLM-R tokenizer needs sentencepiece (pip install -e '.[dev]')"
)

from core.ml.checkpoint import load_official  # noqa: E402
from core.ml.text import TEXT_DIM, MClipTextEncoder, TextEncoderError, xlmr_sizes  # noqa: E402
from core.ml.unet import KF2PNet, UNetConfig  # noqa: E402

torch.set_num_threads(1)

from tests.conftest import official_path as _ref  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KEYS_JSON = _ref("state_dict_keys.json")
TOL = 1e-5
HIDDEN, LAYERS, INTERMEDIATE, MAX_POS = 128, 2, 256, 34  # 2 heads of 64; at most 32 tokens

# Prompts of clearly different token counts (checked below), so padding matters in a batch.
TEXTS = ["kalo", "the dog runs over the big red house slowly and the cat jumps", "hello friend"]
LANGS = [None, "ASE", "BSL"]
PROMPTS = ["kalo", "<ASE> the dog runs over the big red house slowly and the cat jumps", "<BSL> hello friend"]


class Tiny:
    def __init__(self, tok_dir: Path, sp, model, weight, bias, state) -> None:
        self.tok_dir, self.sp, self.model = tok_dir, sp, model
        self.weight, self.bias, self.state = weight, bias, state

    def ids(self, prompt: str) -> list[int]:
        """XLM-R ids without transformers: <s>=0, </s>=2, piece = sentencepiece id + 1, unk = 3."""
        return [0] + [i + 1 if i != self.sp.unk_id() else 3 for i in self.sp.encode(prompt)] + [2]

    def reference(self, prompt: str) -> torch.Tensor:
        """(640,) for one prompt alone: no padding, no attention mask."""
        with torch.no_grad():
            h = self.model(input_ids=torch.tensor([self.ids(prompt)])).last_hidden_state[0]  # (L, H)
            return h.mean(dim=0) @ self.weight.T + self.bias


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Tiny:
    tmp = tmp_path_factory.mktemp("mclip")
    rng = random.Random(7)
    syllables = "ka lo mi te su ra ne po vi da gu ze fo bi".split()
    words = ["".join(rng.choice(syllables) for _ in range(rng.randint(1, 3))) for _ in range(80)]
    words += (
        "the a sign hand moves left right slowly over big red house dog cat runs jumps and "
        "hello friend thank you water book"
    ).split()
    sentences = []
    for i in range(400):
        s = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        sentences.append(f"<{('ASE', 'BSL', 'CSL')[i % 3]}> {s}" if i % 2 else s)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_prefix=str(tmp / "sp"),
        vocab_size=200,
        hard_vocab_limit=False,
        model_type="unigram",
        minloglevel=2,
    )
    tok = transformers.XLMRobertaTokenizer(vocab_file=str(tmp / "sp.model"))
    tok_dir = tmp / "tokenizer"
    tok.save_pretrained(str(tok_dir))
    sp = spm.SentencePieceProcessor(model_file=str(tmp / "sp.model"))

    torch.manual_seed(0)
    cfg = transformers.XLMRobertaConfig(
        vocab_size=len(tok),
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=HIDDEN // 64,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=MAX_POS,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
    )
    model = transformers.XLMRobertaModel(cfg, add_pooling_layer=True).eval()
    with torch.no_grad():  # move every tensor off its init value (LayerNorm 1/0, biases 0)
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    weight = torch.randn(TEXT_DIM, HIDDEN) / HIDDEN**0.5
    bias = 0.1 * torch.randn(TEXT_DIM)
    state = {f"transformer.{k}": v.clone() for k, v in model.state_dict().items()}
    state["LinearTransformation.weight"] = weight.clone()
    state["LinearTransformation.bias"] = bias.clone()
    return Tiny(tok_dir, sp, model, weight, bias, state)


def test_tiny_setup_is_meaningful(tiny):
    lengths = [len(tiny.ids(p)) for p in PROMPTS]
    assert len(set(lengths)) == len(lengths), lengths  # padding is exercised
    assert max(lengths) <= MAX_POS - 2
    assert tiny.sp.unk_id() not in tiny.sp.encode("<ASE> hello")  # the tag is real pieces
    assert "transformer.pooler.dense.weight" in tiny.state  # stored like the release, unused


def test_batch_matches_unpadded_reference(tiny):
    enc = MClipTextEncoder(tiny.tok_dir, tiny.state)
    out = enc(TEXTS, LANGS)
    assert out.shape == (len(TEXTS), TEXT_DIM) and out.dtype == torch.float32
    for i, prompt in enumerate(PROMPTS):
        err = float((out[i] - tiny.reference(prompt)).abs().max())
        assert err <= TOL, f"prompt {i} ({prompt!r}): max abs error {err:.3g}"
    # Without the attention mask the padded rows would differ: the check above can fail.
    tok = enc.tokenizer(PROMPTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        h = tiny.model(input_ids=tok["input_ids"]).last_hidden_state.mean(dim=1)
        naive = h @ tiny.weight.T + tiny.bias
    assert float((naive[0] - out[0]).abs().max()) > 1e-3


def test_language_tag_reaches_the_tokenizer(tiny):
    enc = MClipTextEncoder(tiny.tok_dir, tiny.state)
    tagged = enc(["hello friend"], ["ASE"])[0]
    assert float((tagged - tiny.reference("<ASE> hello friend")).abs().max()) <= TOL
    plain = enc(["hello friend"])[0]
    assert float((plain - tiny.reference("hello friend")).abs().max()) <= TOL
    assert float((tagged - plain).abs().max()) > 1e-3
    other = enc(["hello friend"], ["BSL"])[0]
    assert float((tagged - other).abs().max()) > 1e-3
    assert enc([], []).shape == (0, TEXT_DIM)


def test_sizes_from_shapes(tiny):
    assert xlmr_sizes(tiny.state) == dict(
        vocab_size=len(tiny.sp) + 2,
        hidden_size=HIDDEN,
        num_hidden_layers=LAYERS,
        num_attention_heads=2,
        intermediate_size=INTERMEDIATE,
        max_position_embeddings=MAX_POS,
        type_vocab_size=1,
    )
    if not KEYS_JSON.is_file():
        pytest.skip(f"released key layout not found: {KEYS_JSON}")
    # The released layout (shapes only, on the meta device) is exactly XLM-R large.
    keys = json.loads(KEYS_JSON.read_text())["hand"]["keys"]
    prefix = "text_enc_model."
    released = {k[len(prefix) :]: torch.empty(shape, device="meta") for k, shape in keys if k.startswith(prefix)}
    assert len(released) == 393
    assert xlmr_sizes(released) == dict(
        vocab_size=250002,
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        max_position_embeddings=514,
        type_vocab_size=1,
    )


def test_released_layout_builds_xlmr_large(tiny):
    """The full-size fixture stores the 393 M-CLIP tensors as zero stride-0 placeholders with the
    released shapes: they must load into XLM-R large with nothing missing or left over."""
    path = _ref("hand_unet_large_random.pt")
    if not path.is_file():
        pytest.skip(f"official reference fixture not found: {path}")
    sd = torch.load(path, weights_only=True, map_location="cpu")  # 18 MB (pool views)
    prefix = "text_enc_model."
    state = {k[len(prefix) :]: v for k, v in sd.items() if k.startswith(prefix)}
    enc = MClipTextEncoder(tiny.tok_dir, state)  # the tiny tokenizer's ids fit the large vocab
    cfg = enc.transformer.config
    assert (cfg.hidden_size, cfg.num_hidden_layers, cfg.num_attention_heads) == (1024, 24, 16)
    assert enc.max_tokens == 512
    out = enc(TEXTS, LANGS)
    assert out.shape == (len(TEXTS), TEXT_DIM) and bool(torch.isfinite(out).all())


def test_checkpoint_text_reaches_the_network(tiny, tmp_path):
    torch.manual_seed(1)
    cfg = UNetConfig.preset("official-tiny", 90)
    net = KF2PNet(cfg, zero_init=False)
    sd = dict(net.state_dict())
    sd.update({f"text_enc_model.{k}": v for k, v in tiny.state.items()})
    path = tmp_path / "ema_tiny_with_text.pt"
    torch.save(sd, path)

    ck = load_official(path)
    assert set(ck.text_encoder_state) == set(tiny.state)
    enc = MClipTextEncoder.from_checkpoint(ck, tiny.tok_dir)
    emb = enc(TEXTS, LANGS)
    direct = MClipTextEncoder(tiny.tok_dir, tiny.state)(TEXTS, LANGS)
    assert torch.allclose(emb, direct, atol=1e-6, rtol=0)

    b, j, t = len(TEXTS), 90, 16
    x_t, obs = torch.randn(b, j, t), torch.randn(b, j, t)
    obs_mask = torch.zeros(b, j, t, dtype=torch.bool)
    obs_mask[..., 0] = obs_mask[..., -1] = True
    y_mask = torch.ones(b, 1, t, dtype=torch.bool)
    tt = torch.full((b,), 0.4)
    with torch.no_grad():
        with_text = ck.model(x_t, tt, obs, obs_mask, y_mask, emb)
        null = ck.model(x_t, tt, obs, obs_mask, y_mask, None)
    diff = (with_text - null).abs().amax(dim=(1, 2))
    assert bool((diff > 1e-4).all()), diff

    # A checkpoint without the M-CLIP tensors: the error names the file.
    bare = tmp_path / "no_text.pt"
    torch.save(dict(net.state_dict()), bare)
    with pytest.raises(TextEncoderError, match=r"no_text\.pt: no M-CLIP weights") as e:
        MClipTextEncoder.from_checkpoint(load_official(bare), tiny.tok_dir)
    assert "\n" not in str(e.value)


def _one_line(tok_dir, state, match: str) -> None:
    with pytest.raises(TextEncoderError, match=match) as e:
        MClipTextEncoder(tok_dir, state)
    assert "\n" not in str(e.value), str(e.value)


def test_errors(tiny, tmp_path):
    _one_line(tmp_path / "missing", tiny.state, r"missing: XLM-R tokenizer directory not found")
    (tmp_path / "empty").mkdir()
    _one_line(tmp_path / "empty", tiny.state, r"empty: no tokenizer\.json or sentencepiece\.bpe\.model")
    no_linear = {k: v for k, v in tiny.state.items() if not k.startswith("LinearTransformation.")}
    _one_line(tiny.tok_dir, no_linear, r"no M-CLIP weights: LinearTransformation")
    _one_line(tiny.tok_dir, {}, r"no M-CLIP weights")
    bad_linear = dict(tiny.state, **{"LinearTransformation.weight": torch.zeros(512, HIDDEN)})
    _one_line(tiny.tok_dir, bad_linear, r"LinearTransformation is \(512, 128\)")
    no_emb = {k: v for k, v in tiny.state.items() if "word_embeddings" not in k}
    _one_line(tiny.tok_dir, no_emb, r"missing 'transformer\.embeddings\.word_embeddings\.weight'")
    no_layer = {k: v for k, v in tiny.state.items() if ".layer.0.attention.self.query." not in k}
    _one_line(tiny.tok_dir, no_layer, r"do not fit XLM-R \(missing \['encoder\.layer\.0\.attention")
    small_vocab = dict(tiny.state)
    key = "transformer.embeddings.word_embeddings.weight"
    small_vocab[key] = small_vocab[key][:-5]
    _one_line(tiny.tok_dir, small_vocab, r"tokenizer .* tokens\) does not fit the M-CLIP weights")

    enc = MClipTextEncoder(tiny.tok_dir, tiny.state)
    with pytest.raises(TextEncoderError, match=r"text 1 is \d+ tokens; M-CLIP takes at most 32"):
        enc(["hello", " ".join(["the dog runs"] * 20)])


def test_fast_tokenizer_directory(tiny, tmp_path):
    """Hugging Face ships XLM-R with tokenizer.json (fast): same ids, same embedding.
    Writing one from the sentencepiece model needs protobuf (reading it does not)."""
    pytest.importorskip("google.protobuf", reason="converting the tiny tokenizer to fast needs protobuf")
    fast_dir = tmp_path / "fast"
    transformers.XLMRobertaTokenizerFast.from_pretrained(str(tiny.tok_dir)).save_pretrained(str(fast_dir))
    (fast_dir / "sentencepiece.bpe.model").unlink(missing_ok=True)
    enc = MClipTextEncoder(fast_dir, tiny.state)
    assert isinstance(enc.tokenizer, transformers.XLMRobertaTokenizerFast)
    out = enc(TEXTS, LANGS)
    for i, prompt in enumerate(PROMPTS):
        assert float((out[i] - tiny.reference(prompt)).abs().max()) <= TOL, prompt


def test_cli_inbetween_with_text(tiny, tmp_path):
    """``core inbetween --tokenizer``: the sentence conditions an official checkpoint's hands."""
    import subprocess
    import sys

    import numpy as np
    from scipy.spatial.transform import Rotation

    from core.io import registry
    from core.model.sequence import new_sequence
    from core.model.skeleton import RIGHT_HAND

    torch.manual_seed(2)
    cfg = UNetConfig.preset("official-tiny", 90)
    sd = dict(KF2PNet(cfg, zero_init=False).state_dict())
    sd.update({f"text_enc_model.{k}": v for k, v in tiny.state.items()})
    ck = tmp_path / "ema_0.9999_000001.pt"
    torch.save(sd, ck)
    t = 40
    rot = np.tile(np.eye(3, dtype=np.float32), (t, 52, 1, 1))
    rng = np.random.default_rng(0)
    for j in range(RIGHT_HAND.start, RIGHT_HAND.stop):  # a slow finger curl to in-between
        rv = np.linspace(0, 1, t)[:, None] * rng.normal(scale=0.5, size=3)
        rot[:, j] = Rotation.from_rotvec(rv).as_matrix()
    src = tmp_path / "in.signframe"
    registry.write(src, new_sequence(rot, 25.0))

    def run(*extra):
        return subprocess.run(
            [sys.executable, "-m", "core", "inbetween", str(src), "--keys", "every:8", "--model", str(ck), *extra],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )

    a, b = tmp_path / "text.signframe", tmp_path / "null.signframe"
    r = run("--out", str(a), "--tokenizer", str(tiny.tok_dir), "--text", "hello friend", "--language", "ASE")
    assert r.returncode == 0, r.stderr
    r = run("--out", str(b))
    assert r.returncode == 0, r.stderr
    ra, rb = registry.read(a).rotations, registry.read(b).rotations
    keys = list(range(0, t, 8)) + [t - 1]
    assert np.array_equal(ra[keys], rot[keys]) and np.array_equal(rb[keys], rot[keys])
    gen = np.setdiff1d(np.arange(t), keys)
    assert np.abs(ra[gen][:, RIGHT_HAND] - rb[gen][:, RIGHT_HAND]).max() > 1e-4  # the text changed them
    for bad in (
        ("--out", str(a), "--text", "hi"),  # text without a tokenizer
        ("--out", str(a), "--model", "slerp", "--tokenizer", str(tiny.tok_dir)),
    ):  # the last --model wins
        r = run(*bad)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
