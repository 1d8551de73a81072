"""Undoing a response's Content-Encoding within a size limit, whatever the body claims.

A few megabytes of gzip can inflate to gigabytes. httpx inflates each chunk
whole as it arrives (64 kB of zeros become 64 MB) before any cap can look at
it, and an update has dozens of responses streaming at once, each holding what
it has inflated so far while the others take their turn. So here the body is
kept as it arrives, compressed, and inflated as it comes only to be measured,
a piece at a time, each piece dropped once counted: a bomb costs one piece
and is refused at the limit. Once the whole body is in and known to fit, it is
inflated for good, in one go, with no other response's turn in between.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

PIECE = 256 * 1024  # the most one measuring step inflates at a time

CODINGS = ("gzip", "x-gzip", "deflate")


class TooLarge(ValueError):
    """The body inflates past the limit."""


class Undecodable(ValueError):
    """The body is not in the coding it claims."""


class Inflater:
    """The body of one response: ``feed`` each chunk, then ``finish`` for the bytes.

    ``encoding`` is the Content-Encoding header; codings are undone in reverse order
    of listing, and ones knowflow never asks for pass through, as httpx lets them."""

    def __init__(self, encoding: str, limit: int) -> None:
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
        self.steps = [_Step(c, limit) for c in reversed(codings) if c in CODINGS]
        self.limit = limit
        self.body = bytearray()  # as it arrived
        self.size = 0  # what it inflates to, so far

    def feed(self, chunk: bytes) -> None:
        self.body += chunk
        if not self.steps:
            self.size += len(chunk)
        for piece in _through(chunk, self.steps) if self.steps else ():
            self.size += len(piece)
            if self.size > self.limit:
                break
        if self.size > self.limit:
            self.body = bytearray()  # let it go now, not when the error is
            raise TooLarge(f"response is over the {self.limit} byte limit once decompressed")

    def finish(self) -> bytes:
        data = bytes(self.body)
        self.body = bytearray()
        for step in self.steps:
            data = step.whole(data)
        return data


def _through(data: bytes, steps: list[_Step]) -> Iterator[bytes]:
    """What data inflates to through every step, in pieces of at most PIECE bytes."""
    if not steps:
        yield data
        return
    for piece in steps[0].pieces(data):
        yield from _through(piece, steps[1:])


class _Step:
    """One coding to undo; deflate may come with or without its zlib header."""

    def __init__(self, coding: str, limit: int) -> None:
        self.coding, self.limit = coding, limit
        self.wbits = zlib.MAX_WBITS if coding == "deflate" else 16 + zlib.MAX_WBITS
        self.measure = zlib.decompressobj(self.wbits)
        self.head = bytearray()  # deflate's input until it inflates to something
        self.size = 0

    def pieces(self, data: bytes) -> Iterator[bytes]:
        """Inflate data to measure it, a piece at a time; past the end of the stream
        nothing more is read (zlib would keep it all as unused data)."""
        guessing = self.wbits == zlib.MAX_WBITS and not self.size
        if guessing:
            self.head += data
        while data and not self.measure.eof:
            try:
                piece = self.measure.decompress(data, PIECE)
            except zlib.error as exc:
                if not guessing:
                    message = f"the {self.coding} body cannot be decompressed: {exc}"
                    raise Undecodable(message) from None
                # Servers often send bare deflate, without zlib's header: start again so.
                guessing, self.wbits = False, -zlib.MAX_WBITS
                self.measure = zlib.decompressobj(self.wbits)
                data, self.head = bytes(self.head), bytearray()
                continue
            self.size += len(piece)
            if piece:  # the coding is settled
                guessing, self.head = False, bytearray()
            if self.size > self.limit:  # a stage in between may not grow past it either
                raise TooLarge(f"response is over the {self.limit} byte limit once decompressed")
            data = self.measure.unconsumed_tail
            yield piece

    def whole(self, data: bytes) -> bytes:
        """Inflate all of data, known by now to fit within the limit."""
        try:
            return zlib.decompressobj(self.wbits).decompress(data, self.limit + 1)
        except zlib.error as exc:
            raise Undecodable(f"the {self.coding} body cannot be decompressed: {exc}") from None
