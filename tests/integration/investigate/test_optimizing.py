"""investigate's optimize step on SQLite: the advised index timed, kept, journaled, undone."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from redline.investigate._optimizing import sqlite_advice, try_indexes
from redline.optimize import SqliteJournal, appliers, rollback
from redline.plan import parse_dsn
from redline.probes import analyze_sqlite

QUERY = "SELECT id, price FROM products WHERE brand = 'b-7' ORDER BY price;"


def shop(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, brand TEXT, price INTEGER)")
    conn.executemany("INSERT INTO products (brand, price) VALUES (?, ?)",
                     ((f"b-{i % 500}", (i * 7919) % 10_000) for i in range(60_000)))  # fmt: skip
    conn.commit()
    conn.close()


def indexes(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
        return [name for (name,) in rows]
    finally:
        conn.close()


def test_the_advised_index_is_kept_when_faster_and_rolled_back(tmp_path: Path) -> None:
    db, queries = tmp_path / "shop.db", tmp_path / "queries.sql"
    shop(db)
    queries.write_text(QUERY + "\n")
    dsn = parse_dsn(f"sqlite:///{str(db).lstrip('/')}", field="db")
    advice = sqlite_advice(analyze_sqlite(dsn, queries).planned)
    assert [a.change.summary for a in advice] == ["index products (brand, price)"]
    journal = SqliteJournal(tmp_path / "journal.db")

    trials = try_indexes(dsn, advice, None, journal, repetitions=5)

    assert [(t["change"], t["decision"]) for t in trials] == [
        ("index products (brand, price)", "kept")
    ]
    assert indexes(db) == ["redline_products_brand_price_idx"]
    outcomes = rollback(journal, appliers(dsns=[dsn]), entry_id=trials[0]["entry_id"])
    assert [o.ok for o in outcomes] == [True]
    assert indexes(db) == []
