"""SQL text the scoring modules write."""


def sql_text(value: str) -> str:
    """A VARCHAR literal."""
    return "'" + value.replace("'", "''") + "'"
