"""The Spotify app's client id and secret: from the environment, else from `.env` in the working directory.

The secret is only ever handed to spotipy: it is kept out of reprs, logs, error messages and files
(moodcast.secrets masks it wherever a server echoes it).
"""

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from moodcast import secrets
from moodcast.errors import BadInputError

CLIENT_ID_VARIABLE = "SPOTIPY_CLIENT_ID"
CLIENT_SECRET_VARIABLE = "SPOTIPY_CLIENT_SECRET"
DOTENV_FILE = ".env"


@dataclass(frozen=True)
class Credentials:
    client_id: str
    client_secret: str = field(repr=False)


def load_credentials(environment: Mapping[str, str] | None = None, directory: Path | None = None) -> Credentials:
    environment = os.environ if environment is None else environment
    dotenv_path = (directory or Path.cwd()) / DOTENV_FILE
    from_file = dotenv_values(dotenv_path) if dotenv_path.is_file() else {}
    values = {
        variable: environment.get(variable) or from_file.get(variable) or ""
        for variable in (CLIENT_ID_VARIABLE, CLIENT_SECRET_VARIABLE)
    }
    missing = [variable for variable, value in values.items() if not value.strip()]
    if missing:
        raise BadInputError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set. Set "
            f"{CLIENT_ID_VARIABLE} and {CLIENT_SECRET_VARIABLE} to your Spotify app's client id and secret "
            f"(https://developer.spotify.com/dashboard), in the environment or in {dotenv_path} "
            "(a .env file git ignores)."
        )
    credentials = Credentials(values[CLIENT_ID_VARIABLE].strip(), values[CLIENT_SECRET_VARIABLE].strip())
    secrets.register(credentials.client_secret, credentials.client_id)
    return credentials
