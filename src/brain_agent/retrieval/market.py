"""Retrieval on a real market: offer only the fields the market has.

When a batch simulates locally on a real market (``run-batch --market sp500-2009-2010``), a prompt
that offers ``vwap`` or ``bookvalue_ps`` invites an alpha the simulator must refuse
(``UNKNOWN_FIELD``). ``restrict_to_fields`` gives the knowledge pack as that market sees it: the same
operators and subcategories, only the fields the panel has. Retrieval ranks it as any pack; the
validator, given the same pack, reports any other field as ``UNKNOWN_FIELD``, as the simulator would.
The synthetic market offers every pack field, so it needs no restriction.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Collection

from brain_agent.knowledge import KnowledgePack


def restrict_to_fields(pack: KnowledgePack, fields: Collection[str], market: str) -> KnowledgePack:
    """``pack`` with only the fields named in ``fields`` (a market's ``Panel.field_names()``).

    Its digest is new (the pack's, the market and the kept fields), so a retrieval pack built from it
    never passes for one built from the whole pack."""
    have = set(fields)
    kept = {name: f for name, f in pack.fields.items() if name in have}
    digest = hashlib.sha256("\n".join([pack.digest, market, *sorted(kept)]).encode("utf-8")).hexdigest()[:16]
    return dataclasses.replace(pack, fields=kept, digest=digest)
