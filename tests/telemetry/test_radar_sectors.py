"""Radar sectors: distinct subcategories in view never share a number, even when their hashes collide,
and a subcategory keeps its number while it stays in view."""

from __future__ import annotations

import itertools

from brain_agent.storage.sqlite_store import Event
from brain_agent.telemetry.views import SECTORS, RunView, sector_for

T0 = 1_800_000_000.0


def _colliding(n: int) -> list[str]:
    """n subcategory ids whose preferred sector is the same."""
    by_sector: dict[int, list[str]] = {}
    for i in itertools.count():
        s = f"sub-{i}"
        group = by_sector.setdefault(sector_for(s), [])
        group.append(s)
        if len(group) == n:
            return group
    raise AssertionError("unreachable")


def _scan(view: RunView, n: int, idea: str, subs: list[str]) -> None:
    view.apply(Event(n, "r", T0 + n, "idea.refined", "idea", idea, "exploit", {"subcategories": subs}))


def test_colliding_subcategories_get_distinct_sectors() -> None:
    subs = _colliding(4)
    assert len({sector_for(s) for s in subs}) == 1  # the hash alone would put them all in one sector
    view = RunView("r")
    for n, s in enumerate(subs, 1):
        _scan(view, n, f"i{n}", [s])
    scanning = view.snapshot(T0 + 10)["reactor"]["radar"]["scanning"]
    sectors = {x["subcategory"]: x["sector"] for x in scanning}
    assert set(sectors) == set(subs)
    assert len(set(sectors.values())) == len(subs)
    assert all(1 <= v <= SECTORS for v in sectors.values())
    # the feed names the same numbers the radar shows
    feed = " ".join(view.snapshot(T0 + 10)["reactor"]["radar"]["feed"])
    for s, sector in sectors.items():
        assert f"Sector {sector} (" in feed, s


def test_a_subcategory_keeps_its_sector_while_in_view() -> None:
    a, b = _colliding(2)
    view = RunView("r")
    _scan(view, 1, "i1", [a])
    _scan(view, 2, "i2", [b])
    first = {x["subcategory"]: x["sector"] for x in view.snapshot(T0 + 5)["reactor"]["radar"]["scanning"]}
    _scan(view, 3, "i3", [a])  # a is seen again: still its number, b still its own
    again = {x["subcategory"]: x["sector"] for x in view.snapshot(T0 + 5)["reactor"]["radar"]["scanning"]}
    assert again == first and first[a] != first[b]


def test_never_more_than_twelve_distinct_subcategories_in_view() -> None:
    view = RunView("r")
    for n in range(1, 31):
        _scan(view, n, f"i{n}", [f"s{n}"])
    scanning = view.snapshot(T0 + 40)["reactor"]["radar"]["scanning"]
    assert len({x["subcategory"] for x in scanning}) <= SECTORS
    assert len({x["sector"] for x in scanning}) == len({x["subcategory"] for x in scanning})
