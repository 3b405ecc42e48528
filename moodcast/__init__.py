"""moodcast: predict the mood of music tracks from Spotify audio features.

This package holds what every stage shares: where state lives (`settings`), the data
contract (`contract`), the warehouse connection (`warehouse`) and CLI plumbing (`cli`).
The stages themselves are the top-level packages `ingest`, `train` and `score`.
"""
