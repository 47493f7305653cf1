"""Smoothed n-gram language model over integer tokens: the baseline a sequence model of events must beat.

Interpolated Kneser-Ney with one absolute discount per order (Chen & Goodman 1999, "An empirical study of
smoothing techniques for language modeling"): the highest order uses counts, the lower orders continuation counts
(how many distinct tokens precede a context), and the lowest order is interpolated with the uniform distribution
over the vocabulary, so every token has a probability > 0 and each conditional sums to 1.

Example:
    >>> lm = KneserNey(order=2, vocab_size=5).fit([[1, 3, 4, 3, 4, 2]])
    >>> round(sum(lm.prob(w, (3,)) for w in range(5)), 6)
    1.0
    >>> lm.prob(4, (3,)) > lm.prob(2, (3,))
    True
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict


class KneserNey:
    """Interpolated Kneser-Ney n-gram model.

    Args:
        order: n (1: a smoothed unigram).
        vocab_size: tokens 0..vocab_size-1 (the uniform floor spreads over all of them).
        discount: absolute discount D in (0, 1) (0.75 is the usual choice).
        pad: the token that fills the context before a sequence starts.
    """

    def __init__(self, order: int = 3, vocab_size: int = 2, discount: float = 0.75, pad: int = 0):
        if order < 1 or vocab_size < 1 or not 0 < discount < 1:
            raise ValueError(f"need order >= 1, vocab_size >= 1, 0 < discount < 1; got {order}, {vocab_size}, {discount}")
        self.order, self.vocab_size, self.discount, self.pad = int(order), int(vocab_size), float(discount), int(pad)
        self._cache: dict = {}

    def fit(self, sequences) -> "KneserNey":
        """Count every n-gram (n <= order) of ``sequences`` (each a list of ints; the first token is context only)."""
        n = self.order
        top = defaultdict(Counter)  # context (n-1 tokens) -> next-token counts
        for seq in sequences:
            seq = [int(t) for t in seq]
            padded = [self.pad] * (n - 1) + seq
            for i in range(n, len(padded)):
                top[tuple(padded[i - n + 1:i])][padded[i]] += 1
        # tables[k]: context of k tokens -> Counter of next tokens (counts for k = n-1, continuation counts below)
        tables = {n - 1: top}
        for k in range(n - 2, -1, -1):
            cont = defaultdict(Counter)
            for ctx, nxt in tables[k + 1].items():
                for w in nxt:
                    cont[ctx[1:]][w] += 1  # one more distinct left extension of (ctx[1:], w)
            tables[k] = cont
        self._tables = {k: {ctx: (dict(c), sum(c.values()), len(c)) for ctx, c in t.items()} for k, t in tables.items()}
        self._cache = {}
        return self

    def prob(self, token: int, context) -> float:
        """P(token | the last order-1 tokens of context) (a shorter context is padded on the left)."""
        ctx = tuple(int(t) for t in context)[-(self.order - 1):] if self.order > 1 else ()
        ctx = (self.pad,) * (self.order - 1 - len(ctx)) + ctx
        return self._p(int(token), ctx)

    def _p(self, w, ctx):
        key = (w, ctx)
        if key in self._cache:
            return self._cache[key]
        k = len(ctx)
        if k == 0:
            counts, total, types = self._tables[0].get((), ({}, 0, 0))
            base = 1.0 / self.vocab_size
            p = base if total == 0 else (max(counts.get(w, 0) - self.discount, 0.0) + self.discount * types * base) / total
        else:
            lower = self._p(w, ctx[1:])
            counts, total, types = self._tables[k].get(ctx, ({}, 0, 0))
            p = lower if total == 0 else (max(counts.get(w, 0) - self.discount, 0.0) + self.discount * types * lower) / total
        if len(self._cache) < 2_000_000:
            self._cache[key] = p
        return p

    def nll(self, sequences) -> tuple[float, int]:
        """``(mean -log P per predicted token in nats, tokens)`` over every token after the first of each sequence."""
        total, count = 0.0, 0
        for seq in sequences:
            seq = [int(t) for t in seq]
            padded = [self.pad] * (self.order - 1) + seq
            for i in range(self.order, len(padded)):
                total -= math.log(self._p(padded[i], tuple(padded[i - self.order + 1:i])))
                count += 1
        return total / max(count, 1), count
