"""The features, ranges and classes moodcast/contract.py defines are the ones dbt tests."""

import yaml

from moodcast import settings
from moodcast.contract import CLASSES, FEATURE_RANGES, FEATURES, Range


def dbt_vars() -> dict:
    return yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def test_dbt_tests_every_feature_on_the_range_ingest_enforces():
    ranges = {feature: Range(*bounds) for feature, bounds in dbt_vars()["feature_ranges"].items()}

    assert ranges == FEATURE_RANGES


def test_dbt_lists_the_contract_features_in_order():
    assert tuple(dbt_vars()["features"]) == FEATURES



def test_dbt_accepts_the_contract_moods_in_order():
    assert tuple(dbt_vars()["moods"]) == CLASSES
