"""The demo shop: a small online-shop API with planted bottlenecks, for ``redline demo``.

A Starlette app served by uvicorn in one process (so redline can profile it by
PID), over a SQLite file it creates and seeds itself when the file is missing
(50,000 products in 50 categories, 20,000 orders of 5 to 20 items)::

    python -m redline.demo.shop_app --port 8000 [--db PATH] [--pool 2]

It prints ``shop on http://127.0.0.1:8000/`` once it accepts requests and
stops cleanly on SIGTERM. Each endpoint is one function in
:mod:`redline.demo.shop_app._app`; the planted line carries a ``PLANTED``
comment, so a finding's file:line lands on it.

=============================  ==============================  ===============================
endpoint                       planted bottleneck              where
=============================  ==============================  ===============================
``GET /health``                none (clean)                    ``health``
``GET /products/{id}``         none (clean, primary key)       ``get_product``
``GET /categories``            none (clean, 50 rows, indexed)  ``list_categories``
``GET /orders/{id}``           N+1: a query per item           ``order_detail``
``GET /search?brand=X``        no index on products.brand      ``search_brand`` (SEARCH_SQL)
``GET /recommendations/{id}``  O(n²) pure-Python comparisons   ``recommend``
``GET /invoice/{id}``          ``time.sleep`` and a sync read  ``invoice`` (in ``async def``)
                               on the event loop
``GET /price/{id}?currency=``  cache never evicted, keyed by   ``price_quote`` (PRICE_CACHE)
                               query string and second
``GET /checkout?order=N``      pool of ``--pool`` (2)          ``checkout_total``
                               connections held over 20 ms
=============================  ==============================  ===============================

Beside the code: ``plan.toml`` (the load: every endpoint by weight),
``queries.sql`` (the statements, for ``redline db analyze sqlite:///... --queries``)
and ``redline.toml`` (a template of the context; :func:`write_files` fills it in).
docs/demo.md lists the finding redline should give for each and the fix.
"""

from redline.demo.shop_app._app import PRICE_CACHE, SEARCH_SQL, build_app
from redline.demo.shop_app._db import Database, SeedConfig, ensure_database, seed
from redline.demo.shop_app._plan import (
    CONTEXT_TEMPLATE,
    DEFAULT_DB,
    PLAN_FILE,
    QUERIES_FILE,
    shop_plan,
    write_files,
)
from redline.demo.shop_app._pool import ConnectionPool

__all__ = [
    "CONTEXT_TEMPLATE",
    "DEFAULT_DB",
    "PLAN_FILE",
    "PRICE_CACHE",
    "QUERIES_FILE",
    "SEARCH_SQL",
    "ConnectionPool",
    "Database",
    "SeedConfig",
    "build_app",
    "ensure_database",
    "seed",
    "shop_plan",
    "write_files",
]
