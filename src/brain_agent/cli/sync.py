"""Command: sync-knowledge-pack (refresh data/meta/index from BRAIN's catalogue)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from brain_agent.cli.app import DbOption, app, err_console, out_console, resolve_db
from brain_agent.storage import local_path


@app.command("sync-knowledge-pack")
def sync_knowledge_pack_command(
    brain_url: Annotated[
        str | None,
        typer.Option(
            "--brain-url", help="BRAIN API base URL (default: $BRAIN_API_URL, else the public API)."
        ),
    ] = None,
    output_dir: Annotated[
        Path, typer.Option("--output-dir", help="Knowledge pack directory to refresh.")
    ] = Path("data/meta/index"),
    interactive_login: Annotated[
        bool,
        typer.Option("--interactive-login", help="Allow the Persona biometric check (prints a link, waits)."),
    ] = False,
    region: Annotated[str, typer.Option("--region", help="Data-field region.")] = "USA",
    universe: Annotated[str, typer.Option("--universe", help="Data-field universe.")] = "TOP3000",
    delay: Annotated[int, typer.Option("--delay", help="Data-field delay (0 or 1).")] = 1,
    dataset: Annotated[
        list[str] | None,
        typer.Option("--dataset", help="Only fields of this dataset id (repeatable; default: all)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Refresh the knowledge pack from BRAIN's GET /operators and GET /data-fields.

    Credentials: $BRAIN_EMAIL/$BRAIN_PASSWORD or the 0600 file ~/.config/brain-agent/credentials.json.
    The new files are validated before they replace the old ones; on any failure the old pack stays.
    """
    from brain_agent.simulation.brain import BrainApi, BrainBackend, sync_knowledge_pack

    def notify(message: str) -> None:
        err_console.print(message, markup=False, highlight=False, soft_wrap=True)

    backend = BrainBackend.from_options(
        base_url=brain_url,
        interactive_login=interactive_login,
        db_path=local_path(resolve_db(db)),
        notify=notify,
    )
    with backend:
        report = sync_knowledge_pack(
            BrainApi(backend.session),
            output_dir,
            now=backend.session.clock.now(),
            region=region,
            universe=universe,
            delay=delay,
            datasets=tuple(dataset or ()),
        )
    out_console.print(
        f"wrote {report.operators} operators ({report.curated_operators} with a kept signature), "
        f"{report.fields} fields and {report.subcategories} subcategories to {output_dir}"
    )
    if report.skipped:
        err_console.print(
            f"skipped {len(report.skipped)} entries BRAIN sent that the pack cannot hold", markup=False
        )
