"""`spark-submit score/spark_job.py --catalog URI --out URI [...]`: `python -m score spark` for a cluster.

Installed, it is also the console script `moodcast-score-spark` (a Databricks Python wheel task's entry point).

The same options and the same function (score.spark.score_on_spark); the session is the one spark-submit
(or the cluster: a Databricks wheel or Python-script task) starts, with its master and settings.
"""

import argparse
import os
import sys

# spark-submit puts this script's folder, score/, first on the path: its modules would shadow top-level ones of
# the same name (`catalog`, `progress`, …). moodcast is imported as the installed package instead.
if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
    sys.path.pop(0)

from moodcast import cli  # noqa: E402
from score import spark  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(prog="spark-submit score/spark_job.py", description=spark.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    spark.add_arguments(parser)
    args = parser.parse_args()
    cli.configure_logging()
    print(spark.summary(spark.score_on_spark(spark.run_from_arguments(args))))


def entry() -> None:
    """The `moodcast-score-spark` console script: what a Databricks Python wheel task names as its entry point."""
    cli.run(main)


if __name__ == "__main__":
    entry()
