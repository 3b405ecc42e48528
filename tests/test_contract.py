"""The feature ranges ingest enforces and the ranges dbt tests on the marts are the same ranges."""

import yaml

from moodcast import settings
from moodcast.contract import FEATURE_RANGES, FEATURES, Range


def dbt_ranges() -> dict[str, Range]:
    marts = yaml.safe_load((settings.DBT_PROJECT_DIR / "models" / "marts" / "_marts.yml").read_text())
    track_features = next(model for model in marts["models"] if model["name"] == "track_features")
    ranges = {}
    for column in track_features["columns"]:
        for test in column.get("data_tests", []):
            if isinstance(test, dict) and "between" in test:
                bounds = test["between"]["arguments"]
                ranges[column["name"]] = Range(
                    bounds.get("min_value"), bounds.get("max_value"), bounds.get("min_inclusive", True)
                )
    return ranges


def test_dbt_tests_every_feature_on_the_range_ingest_enforces():
    assert dbt_ranges() == FEATURE_RANGES


def test_dbt_lists_the_contract_features_in_order():
    project = yaml.safe_load((settings.DBT_PROJECT_DIR / "dbt_project.yml").read_text())

    assert tuple(project["vars"]["features"]) == FEATURES
