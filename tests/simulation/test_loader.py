"""Loading a user's own long-format panel (CSV and Parquet) and simulating on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from brain_agent.errors import InputError
from brain_agent.simulation.backend import SimulationJob, SimulationSettings
from brain_agent.simulation.local.backend import LocalBackend
from brain_agent.simulation.local.loader import load_panel
from brain_agent.simulation.local.panel import GroupValue

ROWS = [
    ("2021-01-04", "AAA", 10.0, "tech"),
    ("2021-01-04", "BBB", 20.0, "bank"),
    ("2021-01-05", "AAA", 11.0, "tech"),
    ("2021-01-05", "BBB", 19.0, "bank"),
    ("2021-01-06", "BBB", 19.0, "bank"),
]


def test_csv_long_format(tmp_path: Path) -> None:
    path = tmp_path / "panel.csv"
    path.write_text(
        "date,instrument,close,sector\n" + "\n".join(",".join(map(str, r)) for r in ROWS), encoding="utf-8"
    )
    panel = load_panel(path)
    assert panel.shape == (3, 2) and list(panel.instruments) == ["AAA", "BBB"]
    close = panel.matrix("close")
    assert close[1, 0] == 11.0 and np.isnan(close[2, 0])
    np.testing.assert_allclose(panel.matrix("returns")[1], [0.1, -0.05])
    sector = panel.get("sector")
    assert isinstance(sector, GroupValue) and sector.codes[0].tolist() == [1, 0] and sector.codes[2, 0] == -1
    settings = SimulationSettings(neutralization="SECTOR")
    outcome = LocalBackend(panel).simulate([SimulationJob("c", "rank(close)", settings)])[0]
    assert outcome.status == "COMPLETE"


def test_parquet_and_errors(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    table = pa.table(
        {"date": [r[0] for r in ROWS], "instrument": [r[1] for r in ROWS], "close": [r[2] for r in ROWS]}
    )
    pq.write_table(table, tmp_path / "p.parquet")
    assert load_panel(tmp_path / "p.parquet").shape == (3, 2)
    (tmp_path / "bad.csv").write_text("date,instrument\n2021-01-04,AAA\n", encoding="utf-8")
    with pytest.raises(InputError, match="close"):
        load_panel(tmp_path / "bad.csv")
