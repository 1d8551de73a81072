"""The numpy encoder against sentence-transformers, with the real packaged model.

The reference vectors (tests/data/embed_reference.json) were computed by
sentence-transformers itself from the same package; tests/data/make_embed_reference.py
says how. The model must be installed for these tests (the README's test command does).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from knowflow.index import encoder

REFERENCE = Path(__file__).parent / "data" / "embed_reference.json"


def test_vectors_match_sentence_transformers() -> None:
    ref = json.loads(REFERENCE.read_text())
    model = encoder.load()
    ours = model.encode(ref["texts"])
    theirs = np.asarray(ref["vectors"], dtype=np.float32)
    assert ours.shape == theirs.shape == (len(ref["texts"]), 384)
    cosines = (ours * theirs).sum(axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosines.min() >= 0.999, cosines
    assert np.abs(ours - theirs).max() < 1e-4


def test_order_and_batching_do_not_change_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = json.loads(REFERENCE.read_text())
    model = encoder.load()
    whole = model.encode(ref["texts"])
    monkeypatch.setattr(encoder, "BATCH_TOKENS", 16)  # one text per pass, mostly
    backwards = model.encode(ref["texts"][::-1])[::-1]
    assert np.allclose(whole, backwards, atol=1e-5)
    assert np.allclose(np.linalg.norm(whole, axis=1), 1.0, atol=1e-5)


def test_meaning_beats_shared_words() -> None:
    model = encoder.load()
    cat, feline, cash = model.encode(
        ["The cat sits on the mat.", "A feline is resting on a rug.", "The cash sits in the bank."]
    )
    assert cat @ feline > cat @ cash


def test_model_is_found_without_importing_its_package() -> None:
    import sys

    folder = encoder.model_dir()
    assert (folder / "model.safetensors").is_file()
    assert "sentence_transformers" not in sys.modules
    assert encoder.available()
