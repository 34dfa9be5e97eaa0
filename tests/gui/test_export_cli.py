"""`lowdash export csv|invoice` from the synced cache, offline, as a user would run them."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

import pypdf
import pytest

from lowdash_desktop import accounts
from lowdash_desktop.cli import main
from lowdash_desktop.export.csv_export import CSV_COLUMNS
from lowdash_desktop.store.cache import Cache


@pytest.fixture
def synced(demo_platform, data_dir, monkeypatch):
    """A data dir with the demo account synced; the platform is stopped (offline) afterwards."""
    monkeypatch.setenv("LOWDASH_API_KEY", demo_platform.api_key)
    assert main(["sync", "--base-url", demo_platform.base_url, "--quiet"]) == 0
    monkeypatch.delenv("LOWDASH_API_KEY")
    entry = accounts.find(data_dir)
    cache, _ = Cache.open(entry.cache_path(data_dir))
    yield cache, demo_platform
    cache.close()


def test_csv_everything_matches_the_platform(synced, tmp_path, capsys):
    cache, platform = synced
    platform.stop()  # exports work offline
    out = tmp_path / "all.csv"
    assert main(["export", "csv", "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    with open(out, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(CSV_COLUMNS)
    truth = {g["id"]: g for g in platform.all_generations()}
    assert len(rows) - 1 == len(truth) == cache.generation_count()
    for row in rows[1:]:
        record = dict(zip(CSV_COLUMNS, row, strict=True))
        gen = truth[record["id"]]
        assert record["cost"] == gen["cost"]["amount"]
        assert Decimal(record["cost"]) == Decimal(gen["cost"]["amount"])
        assert record["created_at"].endswith("Z") and len(record["created_at"]) == 24
        assert record["revision"] == str(gen["revision"])


def test_csv_filters_by_days_model_and_provider(synced, tmp_path):
    cache, _platform = synced
    first_ms, last_ms = cache.conn.execute(
        "SELECT min(created_at), max(created_at) FROM generations"
    ).fetchone()
    day = datetime.fromtimestamp(last_ms / 1000, UTC).date()
    model, provider = cache.conn.execute(
        "SELECT resolved_model, provider FROM generations GROUP BY 1, 2 ORDER BY count(*) DESC"
    ).fetchone()
    out = tmp_path / "f.csv"
    args = ["export", "csv", "--out", str(out), "--from", "2000-01-01", "--to", day.isoformat()]
    assert main([*args, "--model", model, "--provider", provider]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        body = list(csv.DictReader(fh))
    expected = cache.conn.execute(
        "SELECT count(*) FROM generations WHERE resolved_model=? AND provider=?",
        (model, provider),
    ).fetchone()[0]
    assert len(body) == expected > 0  # --to is inclusive: the newest day is in
    assert {(r["resolved_model"], r["provider"]) for r in body} == {(model, provider)}
    assert main(["export", "csv", "--out", str(out), "--to", "2000-01-01"]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        assert len(list(csv.reader(fh))) == 1  # header only
    assert (
        main(["export", "csv", "--out", str(out), "--from", "2030-01-02", "--to", "2030-01-01"])
        == 2
    )


def test_invoice_pdf_headless_in_a_fresh_process(synced, tmp_path, data_dir):
    cache, platform = synced
    platform.stop()
    body = max(cache.invoices(), key=lambda i: len(i["lines"]))
    out = tmp_path / "invoice.pdf"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["LOWDASH_DATA_DIR"] = str(data_dir)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "lowdash_desktop",
            "export",
            "invoice",
            body["id"],
            "--out",
            str(out),
            "--page-size",
            "Letter",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    reader = pypdf.PdfReader(out)
    assert len(reader.pages) >= 2
    text = "".join(p.extract_text() for p in reader.pages)
    assert body["number"] in text
    assert f"Page {len(reader.pages)}" in " ".join(text.split())


def test_unknown_invoice_and_no_account_fail_with_one_line(synced, tmp_path, capsys):
    assert main(["export", "invoice", "inv_nope", "--out", str(tmp_path / "x.pdf")]) == 1
    assert "no invoice 'inv_nope'" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
    code = main(
        ["export", "csv", "--out", str(tmp_path / "x.csv"), "--base-url", "http://127.0.0.1:9/v1"]
    )
    assert code == 1
    assert "no cached account" in capsys.readouterr().err
