"""Commands of the spec's §1.3 chain: run-idea-agent → build-retrieval-pack → run-alpha-maker, and
(validate-expression lives in ``cli/validate.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from brain_agent.agents import Pipeline
from brain_agent.agents.pipeline import RunContext
from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db
from brain_agent.cli.budget import ConfigOption, load_budget
from brain_agent.cli.numbers import bounded
from brain_agent.errors import BudgetBlockedError, InputError, LLMOutputError
from brain_agent.generation.alpha_maker import NO_EXPRESSION, make_candidate
from brain_agent.generation.budget import BudgetedProvider, BudgetGate, CallContext, gated_provider
from brain_agent.ideas import IdeaSpec, load_ideas, refine_idea
from brain_agent.ideas.spec import parse_ideas, require_known_subcategories
from brain_agent.jsonio import read_json, write_json
from brain_agent.knowledge import KnowledgePack, load_knowledge_pack
from brain_agent.llm import make_provider
from brain_agent.retrieval import build_retrieval_pack, load_retrieval_pack
from brain_agent.settings import default_knowledge_pack_dir
from brain_agent.storage import Store, open_store
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
LatencyOption = Annotated[
    float,
    typer.Option(
        "--latency", parser=bounded(0, 3600, "seconds"), help="mock only: seconds per call (at most 3600)."
    ),
]
KnowledgeOption = Annotated[
    Path | None,
    typer.Option("--knowledge-pack-dir", help="Knowledge pack folder (default: data/meta/index)."),
]


def _knowledge(path: Path | None) -> KnowledgePack:
    return load_knowledge_pack(path if path is not None else default_knowledge_pack_dir())


def gated_llm(
    store: Store,
    run: RunContext,
    *,
    llm_provider: str,
    model: str | None,
    base_url: str | None,
    seed: int,
    config: Path | None,
    lane: str = "exploit",
    purpose: str = "alpha",
    latency_s: float = 0.0,
) -> BudgetedProvider:
    """The chain's LLM: the same gated composition as run-batch (cache → single flight → budget →
    call log), charged to the run (batch scope = the run) and the shared day / week / money scopes."""
    inner = make_provider(llm_provider, model=model, base_url=base_url, seed=seed, latency_s=latency_s)
    cfg, prices, _ = load_budget(config, model=inner.model)
    gate = BudgetGate.open(cfg, store, prices)
    ctx = CallContext(run_id=run.run_id, batch_id=run.run_id, lane=lane, purpose=purpose)
    return gated_provider(inner, gate, ctx, emit=run.emit)


def _blocked(run: RunContext, exc: BudgetBlockedError, idea: IdeaSpec) -> None:
    """The spec's ``budget.blocked`` event for a chain call the gate refused."""
    run.emit(
        ev.BUDGET_BLOCKED,
        {
            "failure_code": exc.failure_code,
            "scope": exc.scope,
            "limit": exc.limit,
            "observed": exc.observed,
            "action": "refused",
            "fallback_count": 0,
        },
        step="budget",
        idea_id=idea.id,
        lane=idea.lane,
    )


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
    config: ConfigOption = None,
    db: DbOption = None,
    latency: LatencyOption = 0.0,
) -> None:
    """Refine one idea spec or a list of them through the LLM (every call through the budget gate;
    exit 3 naming the cap when one is blocked)."""
    raw = read_json(input, "ideas")
    ideas = parse_ideas(raw, str(input))
    store = open_store(resolve_db(db))
    pipeline = Pipeline(store)
    refined: list[IdeaSpec] = []
    with pipeline.run("idea-agent", {"provider": llm_provider, "input": str(input)}) as ctx:
        gated = gated_llm(
            store,
            ctx,
            llm_provider=llm_provider,
            model=model,
            base_url=base_url,
            seed=seed,
            config=config,
            purpose="idea",
            latency_s=latency,
        )
        for idea in ideas:
            provider = gated.bind(idea_id=idea.id, lane=idea.lane)
            try:
                better = refine_idea(provider, idea, seed=seed)
            except BudgetBlockedError as exc:
                _blocked(ctx, exc, idea)
                raise
            except LLMOutputError as exc:
                raise LLMOutputError(
                    f"{exc.message} (idea {idea.id!r}; raw answer kept in {store.where}, llm call "
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
    require_known_subcategories([spec], knowledge.subcategories, str(idea))
    field_usage: dict[str, int] = {}
    sub_usage: dict[str, int] = {}
    if spec.lane == "explore":
        field_usage, sub_usage = open_store(resolve_db(db)).usage_counts()
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
    config: ConfigOption = None,
    db: DbOption = None,
    latency: LatencyOption = 0.0,
) -> None:
    """Render the prompt from the pack, call the LLM, validate the expression, write the candidate."""
    spec = _one_idea(idea, idea_id)
    pack = load_retrieval_pack(retrieval_pack)
    if pack.idea.id != spec.id:
        raise InputError(
            f"{retrieval_pack}: pack is for idea {pack.idea.id!r}, not {spec.id!r}", key="idea.id"
        )
    knowledge = _knowledge(knowledge_pack_dir)
    store = open_store(resolve_db(db))
    topk = pack.default_topk.as_topk()
    with Pipeline(store).run(
        "alpha-maker", {"provider": llm_provider, "idea_id": spec.id}, knowledge_pack=knowledge
    ) as ctx:
        provider = gated_llm(
            store,
            ctx,
            llm_provider=llm_provider,
            model=model,
            base_url=base_url,
            seed=seed,
            config=config,
            lane=spec.lane,
            latency_s=latency,
        ).bind(idea_id=spec.id)
        try:
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
        except BudgetBlockedError as exc:
            _blocked(ctx, exc, spec)
            raise
        ctx.summary.update(candidates=1, valid=int(candidate.valid))
    if candidate.error_code == NO_EXPRESSION:
        raise LLMOutputError(
            f"the LLM's answer holds no Fast Expression (idea {spec.id!r}; raw answer kept in {store.where}, "
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
