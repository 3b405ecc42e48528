"""SQL text the stages write."""


def sql_text(value: str) -> str:
    """A VARCHAR literal."""
    return "'" + value.replace("'", "''") + "'"
