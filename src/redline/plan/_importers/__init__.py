"""Importers: plan files from a HAR recording, an OpenAPI 3 document or a curl command.

Each importer reads its source into a :class:`PlanDraft`; :func:`render_plan`
writes the draft as an editable TOML plan file, with an executor from
:func:`executor_table`, and checks that the file loads with
:func:`~redline.plan.load_plan`. Bad input raises :class:`~redline.errors.ConfigError`
with one line naming the place: ``shop.har: log.entries[2].request.url: missing``.

Example::

    draft = import_har(read_text(Path("shop.har")), source="shop.har",
                       config=HarImportConfig(base_url="http://127.0.0.1:8080"))
    Path("plan.toml").write_text(render_plan(draft, executor=executor_table(vus=10)))
"""

from redline.plan._importers._curl import CurlImportConfig, import_curl
from redline.plan._importers._document import read_text
from redline.plan._importers._draft import DraftRequest, PlanDraft
from redline.plan._importers._executor import executor_table
from redline.plan._importers._har import HarImportConfig, import_har
from redline.plan._importers._openapi import OpenApiImportConfig, import_openapi
from redline.plan._importers._schema import MAX_SCHEMA_DEPTH
from redline.plan._importers._writer import render_plan

__all__ = [
    "MAX_SCHEMA_DEPTH",
    "CurlImportConfig",
    "DraftRequest",
    "HarImportConfig",
    "OpenApiImportConfig",
    "PlanDraft",
    "executor_table",
    "import_curl",
    "import_har",
    "import_openapi",
    "read_text",
    "render_plan",
]
