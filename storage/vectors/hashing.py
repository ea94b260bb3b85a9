"""The offline default embedder: signed feature hashing of words, word pairs and character n-grams.

No model, no download, no state: a text's vector depends on the text alone, identically on every
machine and in every process (BLAKE2b, not Python's salted `hash`). Features, each hashed to one
of `dimensions` buckets with a sign taken from the same digest (so collisions cancel rather than
pile up):

- words: runs of letters or digits, split at underscores and camelCase humps, case-folded;
  numbers are left out (ports, counters and dates say little about what a text is about);
- adjacent word pairs, for phrases (`event breaking`, `object name`);
- character n-grams (3 to 5) of each word with boundary marks, so that `timestamp` and
  `timestamps`, `src_ip` and `srcip` land close.

Counts are damped (1 + ln tf) so a repeated word does not drown the others, and the vector is
L2-normalised: cosine similarity is then a dot product.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections.abc import Iterator, Sequence
from functools import lru_cache

from storage.vectors.model import Vector

DEFAULT_DIMENSIONS = 1024
RECIPE = "hashing-v1"
"""Bump when the features change: vectors of two recipes must not share a namespace."""

WORD_WEIGHT = 1.0
PAIR_WEIGHT = 0.5
NGRAM_WEIGHT = 1.0
"""Total weight of one word's character n-grams (shared among them)."""
NGRAM_SIZES = (3, 4, 5)

_RUN = re.compile(r"[^\W_]+")
_HUMP = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_STOP_TEXT = """a an and are as at be by for from has have if in into is it its of on or that
the their then there these this to was were when which will with"""
_STOP_WORDS = frozenset(_STOP_TEXT.split())


def words(text: str) -> list[str]:
    """Case-folded words of `text`: identifiers split at `_`, `.`, `-` and camelCase humps."""
    found: list[str] = []
    for run in _RUN.findall(text):
        for part in _HUMP.findall(run) if run.isascii() else [run]:
            word = part.casefold()
            if not word.isdigit() and word not in _STOP_WORDS:
                found.append(word)
    return found


def _digest(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")


def _ngrams(word: str) -> Iterator[str]:
    marked = f"<{word}>"
    for size in NGRAM_SIZES:
        for start in range(len(marked) - size + 1):
            yield marked[start : start + size]


class HashingEmbedder:
    """Deterministic feature-hashing embedder (see the module docstring)."""

    def __init__(self, dimensions: int = DEFAULT_DIMENSIONS) -> None:
        if not 16 <= dimensions <= 16000:
            raise ValueError(f"hashing embedder dimensions must be 16..16000, got {dimensions}")
        self._dimensions = dimensions
        self._word_features = lru_cache(maxsize=65536)(self._uncached_word_features)

    @property
    def name(self) -> str:
        return f"{RECIPE}-{self._dimensions}"

    @property
    def dimensions(self) -> int:
        return self._dimensions

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = _digest(feature)
        return digest % self._dimensions, -1.0 if digest >> 63 else 1.0

    def _uncached_word_features(self, word: str) -> tuple[tuple[int, float], ...]:
        """The word's own feature and its n-grams, each as (bucket, signed weight)."""
        grams = list(_ngrams(word))
        share = NGRAM_WEIGHT / math.sqrt(len(grams)) if grams else 0.0
        bucket, sign = self._bucket("w " + word)
        grams_features = ((b, s * share) for b, s in (self._bucket("c " + g) for g in grams))
        return ((bucket, sign * WORD_WEIGHT), *grams_features)

    def _one(self, text: str) -> Vector:
        counts: dict[str, int] = {}
        tokens = words(text)
        for word in tokens:
            counts[word] = counts.get(word, 0) + 1
        pairs: dict[str, int] = {}
        for first, second in itertools.pairwise(tokens):
            key = f"p {first} {second}"
            pairs[key] = pairs.get(key, 0) + 1
        values = [0.0] * self._dimensions
        for word, count in counts.items():
            damp = 1.0 + math.log(count)
            for bucket, weight in self._word_features(word):
                values[bucket] += weight * damp
        for pair, count in pairs.items():
            bucket, sign = self._bucket(pair)
            values[bucket] += sign * PAIR_WEIGHT * (1.0 + math.log(count))
        norm = math.sqrt(sum(v * v for v in values))
        if norm == 0.0:  # no words (empty, digits or punctuation only): the text itself
            bucket, sign = self._bucket("t " + " ".join(text.split()))
            values[bucket] = sign
            return values
        return [v / norm for v in values]

    def embed(self, texts: Sequence[str]) -> list[Vector]:
        return [self._one(text) for text in texts]
