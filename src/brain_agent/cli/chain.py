"""Commands of the spec's §1.3 chain: run-idea-agent → build-retrieval-pack → run-alpha-maker, and
(validate-expression lives in ``cli/validate.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from brain_agent.agents import Pipeline
from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db
from brain_agent.errors import InputError, LLMOutputError
from brain_agent.generation.alpha_maker import NO_EXPRESSION, make_candidate
from brain_agent.ideas import IdeaSpec, load_ideas, refine_idea
from brain_agent.ideas.spec import parse_ideas
from brain_agent.jsonio import read_json, write_json
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.llm import make_provider
from brain_agent.llm.base import LLMProvider
from brain_agent.llm.calllog import LoggedProvider
from brain_agent.retrieval import build_retrieval_pack, load_retrieval_pack
from brain_agent.settings import default_knowledge_pack_dir
from brain_agent.storage import SQLiteStore
from brain_agent.telemetry import events as ev

ProviderOption = Annotated[
    str, typer.Option("--llm-provider", help="mock (default, offline) | openai | ollama | anthropic.")
]
ModelOption = Annotated[str | None, typer.Option("--model", help="Model name (default: the provider's).")]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", help="OpenAI-compatible or Anthropic endpoint (default: env).")
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for the mock provider.")]
OperatorLevelOption = Annotated[
    str,
    typer.Option("--operator-level", help="Your BRAIN level: base (base operators only) | genius (all)."),
]
KnowledgeOption = Annotated[
    Path | None,
    typer.Option("--knowledge-pack-dir", help="Knowledge pack folder (default: data/meta/index)."),
]


def _knowledge(path: Path | None) -> KnowledgePack:
    return load_knowledge_pack(path if path is not None else default_knowledge_pack_dir())


def _provider(name: str, model: str | None, base_url: str | None, seed: int) -> LLMProvider:
    return make_provider(name, model=model, base_url=base_url, seed=seed)


def operator_level_value(value: str) -> Literal["BASE", "GENIUS"]:
    upper = value.strip().upper()
    if upper == "BASE":
        return "BASE"
    if upper == "GENIUS":
        return "GENIUS"
    raise InputError(f"--operator-level must be 'base' or 'genius', got {value!r}", key="operator_level")


def _one_idea(path: Path, idea_id: str | None) -> IdeaSpec:
    ideas = load_ideas(path)
    if idea_id is not None:
        for idea in ideas:
            if idea.id == idea_id:
                return idea
        raise InputError(f"{path}: no idea with id {idea_id!r} (ids: {', '.join(i.id for i in ideas)})")
    if len(ideas) != 1:
        raise InputError(f"{path}: holds {len(ideas)} ideas; pick one with --idea-id")
    return ideas[0]


@app.command("run-idea-agent")
def run_idea_agent(
    input: Annotated[Path, typer.Option("--input", help="An IdeaSpec JSON file (one spec or a list).")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the refined idea(s).")],
    llm_provider: ProviderOption = "mock",
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    seed: SeedOption = 0,
    db: DbOption = None,
) -> None:
    """Refine one idea spec or a list of them through the LLM."""
    raw = read_json(input, "ideas")
    ideas = parse_ideas(raw, str(input))
    store = SQLiteStore(resolve_db(db))
    pipeline = Pipeline(store)
    refined: list[IdeaSpec] = []
    with pipeline.run("idea-agent", {"provider": llm_provider, "input": str(input)}) as ctx:
        provider = LoggedProvider(_provider(llm_provider, model, base_url, seed), store, run_id=ctx.run_id)
        for idea in ideas:
            provider.idea_id, provider.lane = idea.id, idea.lane
            try:
                better = refine_idea(provider, idea, seed=seed)
            except LLMOutputError as exc:
                raise LLMOutputError(
                    f"{exc.message} (idea {idea.id!r}; raw answer kept in {store.path}, llm call "
                    f"{provider.last_call_id})",
                    raw_text=exc.raw_text,
                ) from None
            ctx.emit(
                ev.IDEA_REFINED,
                {"title": better.title, "subcategories": better.target_subcategories},
                step="idea",
                idea_id=better.id,
                lane=better.lane,
            )
            refined.append(better)
        ctx.summary.update(ideas=len(refined))
    data: Any = [i.model_dump() for i in refined] if isinstance(raw, list) else refined[0].model_dump()
    write_json(output, data)
    out_console.print(f"refined {len(refined)} idea(s) → {output}")


@app.command("build-retrieval-pack")
def build_retrieval_pack_command(
    idea: Annotated[Path, typer.Option("--idea", help="An IdeaSpec JSON file.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the retrieval pack.")],
    knowledge_pack_dir: KnowledgeOption = None,
    idea_id: Annotated[
        str | None, typer.Option("--idea-id", help="Which idea, when the file holds several.")
    ] = None,
    operator_level: OperatorLevelOption = "base",
    db: DbOption = None,
) -> None:
    """Rank fields, operators and subcategories for an idea into a retrieval pack."""
    level = operator_level_value(operator_level)
    spec = _one_idea(idea, idea_id)
    knowledge = _knowledge(knowledge_pack_dir)
    field_usage: dict[str, int] = {}
    sub_usage: dict[str, int] = {}
    if spec.lane == "explore":
        field_usage, sub_usage = SQLiteStore(resolve_db(db)).usage_counts()
    pack = build_retrieval_pack(
        spec, knowledge, field_usage=field_usage, subcategory_usage=sub_usage, operator_level=level
    )
    write_json(output, pack.model_dump())
    k = pack.default_topk
    out_console.print(
        f"ranked {len(pack.fields)} fields, {len(pack.operators)} operators, {len(pack.subcategories)} "
        f"subcategories (default Top-K {k.fields}/{k.operators}/{k.subcategories}) → {output}"
    )


@app.command("run-alpha-maker")
def run_alpha_maker(
    idea: Annotated[Path, typer.Option("--idea", help="An IdeaSpec JSON file.")],
    retrieval_pack: Annotated[Path, typer.Option("--retrieval-pack", help="The idea's retrieval pack.")],
    output: Annotated[Path, typer.Option("--output", help="Where to write the candidate JSON.")],
    knowledge_pack_dir: KnowledgeOption = None,
    llm_provider: ProviderOption = "mock",
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    seed: SeedOption = 0,
    idea_id: Annotated[
        str | None, typer.Option("--idea-id", help="Which idea, when the file holds several.")
    ] = None,
    max_tokens: Annotated[int, typer.Option("--max-tokens", min=1, help="Completion token cap.")] = 1024,
    db: DbOption = None,
) -> None:
    """Render the prompt from the pack, call the LLM, validate the expression, write the candidate."""
    spec = _one_idea(idea, idea_id)
    pack = load_retrieval_pack(retrieval_pack)
    if pack.idea.id != spec.id:
        raise InputError(
            f"{retrieval_pack}: pack is for idea {pack.idea.id!r}, not {spec.id!r}", key="idea.id"
        )
    knowledge = _knowledge(knowledge_pack_dir)
    store = SQLiteStore(resolve_db(db))
    topk = pack.default_topk.as_topk()
    with Pipeline(store).run(
        "alpha-maker", {"provider": llm_provider, "idea_id": spec.id}, knowledge_pack=knowledge
    ) as ctx:
        provider = LoggedProvider(
            _provider(llm_provider, model, base_url, seed),
            store,
            run_id=ctx.run_id,
            idea_id=spec.id,
            lane=spec.lane,
        )
        candidate = make_candidate(
            provider,
            spec,
            pack,
            knowledge,
            topk,
            store=store,
            run_id=ctx.run_id,
            max_tokens=max_tokens,
            seed=seed,
        )
        ctx.summary.update(candidates=1, valid=int(candidate.valid))
    if candidate.error_code == NO_EXPRESSION:
        raise LLMOutputError(
            f"the LLM's answer holds no Fast Expression (idea {spec.id!r}; raw answer kept in {store.path}, "
            f"llm call {provider.last_call_id}, candidate {candidate.candidate_id}); "
            f"nothing written to {output}",
            raw_text=candidate.raw_text,
        )
    write_json(output, candidate.model_dump())
    if candidate.valid:
        out_console.print(f"candidate {candidate.candidate_id}: {candidate.expression} → {output}")
    else:
        err_console.print(
            f"candidate {candidate.candidate_id} is INVALID ({candidate.error_code}) → {output}"
        )
        for d in candidate.diagnostics:
            err_console.print(f"  {d['code']}: {d['message']}")
