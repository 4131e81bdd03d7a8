"""How a figure reads wherever people look at it (``runs``/``runs show`` tables, the PnL page)."""

from __future__ import annotations


def fixed(value: float | None, digits: int = 2, missing: str = "") -> str:
    """``value`` with ``digits`` decimals; a tiny negative (or -0.0) that rounds to zero reads as
    zero, not ``-0.00``; ``missing`` for no value."""
    if value is None:
        return missing
    text = f"{value:.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def percent(fraction: float | None, missing: str = "") -> str:
    """A fraction as a percentage with two decimals (``0.0123`` → ``1.23%``)."""
    return missing if fraction is None else f"{fixed(fraction * 100)}%"
