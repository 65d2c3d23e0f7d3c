"""``redline import har|openapi|curl``: write a plan file from a recording, an API description
or a curl command."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from redline.errors import ConfigError
from redline.plan._importers import (
    CurlImportConfig,
    HarImportConfig,
    OpenApiImportConfig,
    PlanDraft,
    executor_table,
    import_curl,
    import_har,
    import_openapi,
    read_text,
    render_plan,
)

__all__ = ["import_app"]

import_app = typer.Typer(
    name="import",
    help="Write a plan file from a HAR recording, an OpenAPI 3 document or a curl command.",
    no_args_is_help=True,
)

Out = Annotated[
    Path | None, typer.Option("--out", "-o", help="Write the plan to this file (default: stdout).")
]
BaseUrl = Annotated[
    str | None,
    typer.Option(help="Send the requests here instead, e.g. http://127.0.0.1:8080."),
]
Vus = Annotated[int | None, typer.Option(help="The plan's VUs (1..50000; default 1).")]
Duration = Annotated[
    str | None,
    typer.Option(help="The plan's duration, e.g. 30s (10s..24h; default 10s)."),
]
Iterations = Annotated[
    int | None,
    typer.Option(help="Stop after this many iterations, shared by the VUs (shared-iterations)."),
]


def _write(draft: PlanDraft, executor: dict[str, object], out: Path | None) -> None:
    text = render_plan(draft, executor=executor)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"--out: cannot write {str(out)!r}: {exc.strerror or exc}") from None
    count, what = (len(draft.steps), "step") if draft.steps else (len(draft.requests), "request")
    Console(stderr=True).print(
        f"wrote {escape(str(out))}: {count} {what}{'s' if count != 1 else ''} "
        f"from {escape(draft.origin)}; run it with: redline run {escape(str(out))}",
        highlight=False,
        soft_wrap=True,
    )


@import_app.command("har")
def har(
    file: Annotated[Path, typer.Argument(help="A HAR 1.2 file (a browser's 'Save all as HAR').")],
    out: Out = None,
    base_url: BaseUrl = None,
    keep_auth: Annotated[
        bool, typer.Option("--keep-auth", help="Keep Cookie and Authorization headers.")
    ] = False,
    include_static: Annotated[
        bool,
        typer.Option("--include-static", help="Keep images, stylesheets, scripts and fonts."),
    ] = False,
    mix: Annotated[
        bool,
        typer.Option("--mix", help="A weighted mix: each iteration picks one request (no steps)."),
    ] = False,
    no_think_time: Annotated[
        bool, typer.Option("--no-think-time", help="No recorded pauses between the steps.")
    ] = False,
    no_chain: Annotated[
        bool,
        typer.Option("--no-chain", help="Send recorded values, not those of earlier responses."),
    ] = False,
    vus: Vus = None,
    duration: Duration = None,
    iterations: Iterations = None,
) -> None:
    """One step per recorded entry, in order, with the recorded pauses; base_url is the first
    entry's origin."""
    executor = executor_table(vus=vus, duration=duration, iterations=iterations)
    config = HarImportConfig(
        base_url=base_url,
        keep_auth=keep_auth,
        include_static=include_static,
        mix=mix,
        think_time=not no_think_time,
        chain=not no_chain,
    )
    _write(import_har(read_text(file), source=str(file), config=config), executor, out)


@import_app.command("openapi")
def openapi(
    file: Annotated[Path, typer.Argument(help="An OpenAPI 3.0 or 3.1 document, JSON or YAML.")],
    out: Out = None,
    base_url: BaseUrl = None,
    vus: Vus = None,
    duration: Duration = None,
    iterations: Iterations = None,
) -> None:
    """One request per operation, with parameters and bodies from examples or schemas."""
    executor = executor_table(vus=vus, duration=duration, iterations=iterations)
    config = OpenApiImportConfig(base_url=base_url)
    _write(import_openapi(read_text(file), source=str(file), config=config), executor, out)


@import_app.command("curl")
def curl(
    command: Annotated[str, typer.Argument(help="The curl command, quoted as one argument.")],
    out: Out = None,
    base_url: BaseUrl = None,
    vus: Vus = None,
    duration: Duration = None,
    iterations: Iterations = None,
) -> None:
    """One request from a curl command (e.g. a browser's 'Copy as cURL')."""
    executor = executor_table(vus=vus, duration=duration, iterations=iterations)
    _write(import_curl(command, config=CurlImportConfig(base_url=base_url)), executor, out)
