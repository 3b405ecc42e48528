"""`python -m ingest spotify`: land tracks and audio features from the Spotify Web API.

One module per job:
- `references`, `labels`: what the user names (IDs, URIs, URLs, reference files, a labels file);
- `credentials`: the client id and secret, from the environment or a `.env` file;
- `retry`: the retry policy every request goes through (429, 5xx, timeouts, 401, 403, 400/404);
- `client`: spotipy set up for that policy, and the Spotify calls moodcast makes;
- `reccobeats`: the ReccoBeats audio-features client; `batches`: batch limits, and finding a refused ID;
- `features`: where audio features come from (Spotify, ReccoBeats, or Spotify then ReccoBeats);
- `records`: API objects → landing rows (pure functions);
- `plan`: which playlists, albums and tracks a command lands, one landing file each;
- `checkpoint`: what an interrupted run already did, so that the same command continues;
- `fetch`: fetch one planned unit, step by step; `progress`: a progress bar or log lines;
- `command`: the whole run and its summary; `arguments`: its command line.
"""
