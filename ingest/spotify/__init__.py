"""`python -m ingest spotify`: land tracks and audio features from the Spotify Web API.

Read in this order, each module one job:
- `references`: what the user names (IDs, URIs, URLs, reference files, a labels file);
- `retry`: the retry policy every request goes through (429, 5xx, timeouts, 401, 403, 400/404), and batches of IDs;
- `client`: the app's credentials, spotipy set up for that policy, and the Spotify calls moodcast makes;
- `features`: where audio features come from (Spotify, ReccoBeats, or Spotify then ReccoBeats), checked;
- `records`: API objects → landing rows (pure functions);
- `plan`: which playlists, albums and tracks a command lands, and what an interrupted run already did;
- `fetch`: fetch one planned unit step by step (and one track, for `python -m score track`);
- `command`: the command line, the whole run and its summary.
"""
