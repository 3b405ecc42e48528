"""Errors of the scoring stage's own."""


class NotCompilable(Exception):
    """The model has a layer (or a shape) that an engine cannot compute: another engine takes it."""
