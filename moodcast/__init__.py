"""moodcast: predict the mood of music tracks from Spotify audio features.

This package holds what every stage shares: where state lives (`settings`), the data
contract (`contract`), the landing zone's layout (`landing`), the exported model's format
(`model`), the warehouse connection (`warehouse`) and CLI plumbing (`cli`). The stages
themselves are the top-level packages `ingest`, `train` and `score`: this package imports none
of them, and train and score never import each other (tests/test_stage_imports.py).
"""
