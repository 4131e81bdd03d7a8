"""An idea naming a subcategory the knowledge pack lacks is refused (exit 2, naming every unknown one),
whichever command meets it first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from brain_agent.cli import run
from brain_agent.errors import InputError
from brain_agent.ideas import IdeaSpec
from brain_agent.ideas.spec import require_known_subcategories

IDEA = {
    "id": "idea-x",
    "title": "Reversal",
    "hypothesis": "Prices that moved sharply over a few days tend to partly revert.",
    "target_subcategories": ["pv-price-volume", "made-up-one", "price-volumes"],
    "lane": "exploit",
}


@pytest.fixture
def ideas_file(tmp_path: Path) -> Path:
    path = tmp_path / "ideas.json"
    path.write_text(json.dumps([IDEA]), encoding="utf-8")
    return path


def _assert_named(err: str) -> None:
    assert "'made-up-one'" in err and "'price-volumes'" in err and "target_subcategories" in err
    assert "'pv-price-volume'" not in err.split("the knowledge pack has")[0]
    assert "idea-x" in err and "Traceback" not in err


def test_run_batch_refuses(ideas_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["run-batch", "--ideas", str(ideas_file), "--simulate", "none"]) == 2
    _assert_named(capsys.readouterr().err)


def test_build_retrieval_pack_refuses(
    ideas_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pack.json"
    assert run(["build-retrieval-pack", "--idea", str(ideas_file), "--output", str(out)]) == 2
    _assert_named(capsys.readouterr().err)
    assert not out.exists()


def test_known_ones_pass_and_the_error_carries_the_values() -> None:
    known = {"pv-price-volume", "fundamental-financial-ratios"}
    ok = IdeaSpec.model_validate({**IDEA, "target_subcategories": ["pv-price-volume"]})
    require_known_subcategories([ok], known, "ideas.json")
    bad = IdeaSpec.model_validate(IDEA)
    with pytest.raises(InputError) as caught:
        require_known_subcategories([ok, bad], known, "ideas.json")
    assert caught.value.exit_code == 2
    assert caught.value.message.startswith("ideas.json: idea 'idea-x': key 'target_subcategories'")
    assert "unknown subcategories 'made-up-one', 'price-volumes'" in caught.value.message
