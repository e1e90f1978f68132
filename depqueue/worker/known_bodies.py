"""Checking a job body once per shape: bodies that differ from one already checked only in their params.

Every dependency of a parent is written from one template (expansion.py): the same bytes but for the
argv. A worker running thousands of short dependencies would parse and check those same fields for each
one; instead it keeps the envelope of a body it checked in full, keyed by the text after the params,
and for a later body with the same text it parses only the params (``raw_decode`` from the known
offset) and checks them as envelope_from_record does. Anything else (another shape, a params value
that is not a list of strings, a body that is not UTF-8 or not ours) takes the full path, which names
the problem. A signature is never cached: the caller verifies every body's own.
"""

from __future__ import annotations

from depqueue.wire.envelope import Envelope, split_params

#: Shapes kept; a worker serves a few dozen parents at once (MAX_WATCHED_DEP_TUBES).
MAX_SHAPES = 128


class KnownBodies:
    def __init__(self) -> None:
        self._shapes: dict[str, Envelope] = {}

    def envelope(self, body: bytes) -> Envelope | None:
        """The envelope of ``body`` when its shape was checked before, else None (check it in full)."""
        found = split_params(body)
        if found is None:
            return None
        params, shape = found
        known = self._shapes.get(shape)
        if known is None or type(params) is not list or not params or any(type(p) is not str for p in params):
            return None
        return known.with_params(params)

    def remember(self, body: bytes, envelope: Envelope) -> None:
        """Keep the shape of ``body``, whose envelope (``envelope``) was checked in full."""
        found = split_params(body)
        # A body whose params appear twice would decode to the later ones: not a shape to trust.
        if found is None or found[0] != envelope.params:
            return
        if len(self._shapes) >= MAX_SHAPES:
            self._shapes.clear()
        self._shapes[found[1]] = envelope
