"""Where the CLI's API key and base URL come from: flag, environment, then ``~/.yotta/config``."""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CONFIG_PATH_TEXT", "Credentials", "UsageError", "config_path", "resolve"]

ENV_API_KEY = "YOTTA_API_KEY"
ENV_BASE_URL = "YOTTA_BASE_URL"
DEFAULT_PROFILE = "default"
CONFIG_PATH_TEXT = "~/.yotta/config"


class UsageError(Exception):
    """The command line (or the configuration it points at) is wrong: exit status 2."""


@dataclass(frozen=True)
class Credentials:
    """The resolved settings and, for ``--debug``, where each came from (never the key itself)."""

    api_key: str | None
    base_url: str | None
    key_source: str
    url_source: str

    def __repr__(self) -> str:
        key = "set" if self.api_key else "missing"
        return f"Credentials(api_key=<{key}>, base_url={self.base_url!r})"


def config_path() -> Path:
    """``~/.yotta/config``, honouring ``HOME`` (the same file the provider's CLI reads)."""
    return Path(os.path.expanduser("~")) / ".yotta" / "config"


def _read_profile(name: str, required: bool) -> dict[str, str]:
    path = config_path()
    if not path.is_file():
        if required:
            raise UsageError(f"--profile {name}: {CONFIG_PATH_TEXT} does not exist")
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError) as exc:
        # The message names the file and line, never a value from it.
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"cannot read {CONFIG_PATH_TEXT}: {first}") from None
    if not parser.has_section(name):
        if required:
            raise UsageError(f"--profile {name}: no [{name}] section in {CONFIG_PATH_TEXT}")
        return {}
    return {k: v.strip() for k, v in parser.items(name) if v.strip()}


def resolve(api_key: str | None, base_url: str | None, profile: str | None) -> Credentials:
    """Resolve the key and URL.

    Without ``--profile``: flag, then ``YOTTA_API_KEY`` / ``YOTTA_BASE_URL``, then the
    ``[default]`` section of ``~/.yotta/config``. With an explicit ``--profile NAME`` the
    named profile beats the environment (but not the flags), so a key exported in the
    shell can never silently override the account the user asked for; a profile that
    does not exist is a usage error.
    """
    explicit = profile is not None
    values = _read_profile(profile or DEFAULT_PROFILE, required=explicit)
    where = f"profile [{profile or DEFAULT_PROFILE}] in {CONFIG_PATH_TEXT}"
    chain_key: list[tuple[str | None, str]] = [(api_key, "--api-key")]
    chain_url: list[tuple[str | None, str]] = [(base_url, "--base-url")]
    env = [(os.environ.get(ENV_API_KEY), ENV_API_KEY)], [(os.environ.get(ENV_BASE_URL), ENV_BASE_URL)]
    prof = [(values.get("api_key"), where)], [(values.get("base_url"), where)]
    first, second = (prof, env) if explicit else (env, prof)
    chain_key += first[0] + second[0]
    chain_url += first[1] + second[1]
    key, key_source = _first(chain_key)
    url, url_source = _first(chain_url)
    return Credentials(key, url, key_source, url_source or "the default")


def _first(chain: list[tuple[str | None, str]]) -> tuple[str | None, str]:
    for value, source in chain:
        if value is not None and value.strip():
            return value.strip(), source
    return None, ""
