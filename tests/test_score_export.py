"""The Parquet export: what BI tools read instead of holding the warehouse file."""

from datetime import UTC, datetime, timedelta
from functools import partial

import duckdb
import sqlalchemy

from moodcast import settings, warehouse
from moodcast.model import registry
from moodcast.publish import publish
from score.catalog import score_catalog
from score.export import EXPORTED_COLUMNS, export_predictions, predictions_export

START = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def score_and_export(run: int = 0, **options):
    with warehouse.connect() as connection:
        score_catalog(connection, registry.current(), START + timedelta(hours=run), **options)
        return export_predictions(connection)


def warehouse_counts() -> list[tuple]:
    with duckdb.connect(str(settings.work_database_path()), read_only=True) as connection:
        return connection.execute("select mood, count(*) from predictions group by mood order by mood").fetchall()


def glob() -> str:
    return str(settings.exports_dir() / "predictions" / "*.parquet")


def test_a_fresh_duckdb_session_reads_the_export_through_a_view(trained, tmp_path, monkeypatch):
    score_and_export()
    monkeypatch.chdir(tmp_path)  # an analyst elsewhere: the view's absolute path still resolves

    with duckdb.connect() as analyst:
        analyst.execute(f"create view predictions as select * from read_parquet('{glob()}')")
        counts = analyst.execute("select mood, count(*) from predictions group by mood order by mood").fetchall()
        columns = [row[0] for row in analyst.execute("describe predictions").fetchall()]

    assert counts == warehouse_counts()
    assert tuple(columns) == EXPORTED_COLUMNS
    assert [path.name for path in predictions_export().parent.iterdir()] == ["predictions.parquet"]


def test_a_bi_tool_reads_the_export_with_sqlalchemy_while_scoring_holds_the_warehouse(trained):
    score_and_export()
    engine = sqlalchemy.create_engine("duckdb:///:memory:")

    with warehouse.connect(), engine.connect() as bi_tool:  # the cron writer has the file open
        rows = bi_tool.execute(sqlalchemy.text(
            f"select mood, count(*) from read_parquet('{glob()}') group by mood order by mood"
        )).fetchall()

    assert [tuple(row) for row in rows] == warehouse_counts()


def test_the_export_is_rewritten_when_the_predictions_change_and_only_then(trained):
    assert score_and_export(0) == predictions_export()
    assert score_and_export(1) is None  # nothing new: the file is up to date

    assert score_and_export(2, full_refresh=True) == predictions_export()
    with duckdb.connect() as reader:
        assert reader.execute(f"select distinct scored_at from read_parquet('{glob()}')").fetchall() == [
            (START + timedelta(hours=2),)
        ]


def test_the_export_written_while_moods_duckdb_is_copied_holds_what_it_publishes(trained):
    with warehouse.connect() as connection:
        score_catalog(connection, registry.current(), START)
        exported = publish(connection, alongside=partial(export_predictions, warehouse.reader(connection)))

    with duckdb.connect(str(settings.database_path()), read_only=True) as reader:
        published = reader.execute("select track_id, mood from predictions order by track_id").fetchall()
        in_export = reader.execute(f"select track_id, mood from read_parquet('{glob()}') order by track_id").fetchall()
    assert exported == predictions_export()
    assert in_export == published
    assert len(published) > 0
