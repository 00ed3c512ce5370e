"""Settings, read once from the environment, validated, and passed in.

Nothing else in the package reads the environment. A bad or missing setting raises `ConfigError`
naming the variable and what is expected; the CLI prints that one line and exits 2. Tokens and
secrets are wrapped in `Secret`, whose `repr` and `str` never show the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.ids import CHANNEL_ID_RE, CONVERSATION_ID_RE, USER_ID_RE

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///briefbot.db"
DEFAULT_TIMEZONE = "Pacific/Auckland"
VISIBILITIES = ("ephemeral", "in_channel")
FACTBASE_SOURCES = ("files", "database")
"""Where `briefbot serve` gets its fact base: `seeds/`, or the newest published snapshot."""


ENVIRONMENT_VARIABLES = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "BRIEFBOT_SLACK_REPLY_TIMEOUT_SECONDS",
    "BRIEFBOT_SEEDS_DIR",
    "BRIEFBOT_TEMPLATES_DIR",
    "BRIEFBOT_DATABASE_URL",
    "BRIEFBOT_TIMEZONE",
    "BRIEFBOT_DEFAULT_VISIBILITY",
    "BRIEFBOT_STALE_DAYS",
    "BRIEFBOT_REMINDER_CHANNEL",
    "BRIEFBOT_REMINDER_PACING_SECONDS",
    "BRIEFBOT_REMINDER_CATCH_UP_HOURS",
    "BRIEFBOT_REMINDERS",
    "BRIEFBOT_ALLOWED_CHANNELS",
    "BRIEFBOT_ALLOW_DMS",
    "BRIEFBOT_ADMIN_USERS",
    "BRIEFBOT_WATCH_SEEDS",
    "BRIEFBOT_ADMIN_TOKEN",
    "BRIEFBOT_LOG_LEVEL",
    "BRIEFBOT_FACTBASE",
    "BRIEFBOT_ANNOUNCE_PUBLISH",
    "BRIEFBOT_CACHE_DIR",
    "XDG_CACHE_HOME",
    "HOME",
    "PORT",
)
"""Every variable `Settings.from_env` reads (tests check the README and deploy files against it)."""


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the variable and what is expected."""

    def __init__(self, variable: str, expected: str) -> None:
        super().__init__(f"{variable}: {expected}")
        self.variable = variable


class Secret:
    """A token or secret; its value is only available through `reveal()`."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret value, for the one place that sends it to Slack."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


_SECRET_QUERY_KEY = re.compile(r"pass|secret|token", re.IGNORECASE)
"""Query parameters of a database URL that carry secrets (`password`, `sslpassword`, ...)."""


_DATABASE_URL_SHAPE = re.compile(
    r"(?:sqlite|postgresql)(?:\+\w+)?://"  # a dialect we support, and its driver
    r"(?:[^:/@]*(?::[^@]*)?@)?"  # user and password
    r"(?:\[[^/?\]]+\]|[^/:?]*)?(?::[0-9]*)?"  # host, and a port that is a number
    r"(?:/[^?]*)?(?:\?.*)?",  # database, query
    re.DOTALL,
)
"""The URL forms SQLAlchemy's `make_url` reads, for the dialects the bot supports: checked
when settings are read without importing SQLAlchemy (most commands never open the database)."""


def _parse_database_url(url: str) -> URL | None:
    """The URL as SQLAlchemy reads it, or None when it cannot (a port that is not a number)."""
    from sqlalchemy.engine import make_url  # imported here: most commands need no database
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        return None


def mask_database_url(url: str) -> str:
    """A database URL with its password and any password-like query parameter hidden.

    This is the only form in which a database URL may be shown: in logs, errors and `repr`.
    """
    parsed = _parse_database_url(url)
    if parsed is None:
        return re.sub(r"(://[^/@]*:)[^@/]*@", r"\1***@", url.split("?", 1)[0])
    hidden = {key: "***" for key in parsed.query if _SECRET_QUERY_KEY.search(key)}
    shown = parsed.update_query_dict(hidden).render_as_string(hide_password=True)
    return shown.replace("=%2A%2A%2A", "=***")  # the query's mask, as the password's reads


def redact_database_secrets(text: str, url: str) -> str:
    """`text` (an error from the database driver) without the URL's password in it."""
    parsed = _parse_database_url(url)
    if parsed is None:
        return text
    secrets = [parsed.password] if parsed.password else []
    for key, value in parsed.query.items():
        if _SECRET_QUERY_KEY.search(key):
            secrets += [value] if isinstance(value, str) else list(value)
    for secret in sorted(filter(None, secrets), key=len, reverse=True):
        text = text.replace(str(secret), "***")
    return text


@dataclass(frozen=True)
class Settings:
    """Everything the bot can be configured with (see the README's configuration table)."""

    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_reply_timeout_seconds: int = 10
    """How long a reply waits for Slack's answer before it counts as lost (then looked for)."""
    seeds_dir: Path = field(default_factory=lambda: default_dir("seeds"))
    templates_dir: Path = field(default_factory=lambda: default_dir("templates"))
    database_url: str = DEFAULT_DATABASE_URL
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    default_visibility: str = "ephemeral"
    port: int = 3000
    stale_days: int = 365
    reminder_channel: str | None = None
    reminder_pacing_seconds: float = 1.0
    reminder_catch_up_hours: int = 48
    reminders_enabled: bool = True
    log_level: str = "INFO"
    allowed_channels: frozenset[str] = frozenset()
    allow_dms: bool = True
    admin_users: frozenset[str] = frozenset()
    watch_seeds: bool = True
    admin_token: Secret | None = None
    factbase_source: str = "files"
    announce_publish: bool = False
    cache_dir: Path | None = None
    """Where the CLI keeps its cache of verified seeds and compiled templates (`bot/cache.py`);
    None: no cache."""

    def __repr__(self) -> str:
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            shown = mask_database_url(value) if f.name == "database_url" else repr(value)
            parts.append(f"{f.name}={shown}")
        return f"Settings({', '.join(parts)})"

    def today(self) -> dt.date:
        """Today in the team's time zone (not the machine's, which is UTC in a container)."""
        return dt.datetime.now(self.timezone).date()

    @property
    def database_url_masked(self) -> str:
        """The database URL with its password hidden."""
        return mask_database_url(self.database_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate every setting; raises `ConfigError` on the first bad one."""

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def secret(name: str, prefix: str | None = None) -> Secret | None:
            value = text(name)
            if value is None:
                return None
            if prefix and not value.startswith(prefix):
                raise ConfigError(name, f"expected a token starting with {prefix!r}")
            return Secret(value)

        def integer(name: str, default: int, low: int, high: int) -> int:
            value = text(name)
            if value is None:
                return default
            if not re.fullmatch(r"\d+", value) or not low <= int(value) <= high:
                raise ConfigError(
                    name, f"expected a whole number from {low} to {high}, got {value!r}"
                )
            return int(value)

        def boolean(name: str, default: bool) -> bool:
            value = (text(name) or "").lower()
            if not value:
                return default
            if value not in ("true", "false", "1", "0", "yes", "no"):
                raise ConfigError(name, f"expected true or false, got {value!r}")
            return value in ("true", "1", "yes")

        def id_list(name: str, pattern: re.Pattern[str], what: str) -> frozenset[str]:
            items = [item.strip() for item in (text(name) or "").split(",") if item.strip()]
            bad = [item for item in items if not pattern.fullmatch(item)]
            if bad:
                raise ConfigError(name, f"expected comma-separated Slack {what}, got {bad[0]!r}")
            return frozenset(items)

        def directory(name: str, default: Path) -> Path:
            value = text(name)
            path = Path(value) if value else default
            if not path.is_dir():
                raise ConfigError(name, f"expected an existing directory, got {str(path)!r}")
            return path

        api_url = text("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not re.match(r"^https?://[^\s/]+", api_url):
            raise ConfigError("SLACK_API_URL", f"expected an http(s) URL, got {api_url!r}")
        if not api_url.endswith("/"):
            api_url += "/"
        zone_name = text("BRIEFBOT_TIMEZONE") or DEFAULT_TIMEZONE
        try:
            zone = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "BRIEFBOT_TIMEZONE",
                f"expected an IANA time zone such as Pacific/Auckland, got {zone_name!r}",
            ) from None
        visibility = (text("BRIEFBOT_DEFAULT_VISIBILITY") or "ephemeral").lower()
        if visibility not in VISIBILITIES:
            raise ConfigError(
                "BRIEFBOT_DEFAULT_VISIBILITY",
                f"expected ephemeral or in_channel, got {visibility!r}",
            )
        database_url = text("BRIEFBOT_DATABASE_URL") or DEFAULT_DATABASE_URL
        if not _DATABASE_URL_SHAPE.fullmatch(database_url):
            raise ConfigError(
                "BRIEFBOT_DATABASE_URL",
                "expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, got "
                f"{mask_database_url(database_url)!r}",
            )
        log_level = (text("BRIEFBOT_LOG_LEVEL") or "INFO").upper()
        if log_level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ConfigError(
                "BRIEFBOT_LOG_LEVEL", f"expected DEBUG, INFO, WARNING or ERROR, got {log_level!r}"
            )
        pacing_text = text("BRIEFBOT_REMINDER_PACING_SECONDS") or "1"
        if not re.fullmatch(r"\d+(\.\d+)?", pacing_text) or float(pacing_text) > 60:
            raise ConfigError(
                "BRIEFBOT_REMINDER_PACING_SECONDS",
                f"expected seconds between posts to one channel, 0 to 60, got {pacing_text!r}",
            )
        enabled = (text("BRIEFBOT_REMINDERS") or "on").lower()
        if enabled not in ("on", "off"):
            raise ConfigError("BRIEFBOT_REMINDERS", f"expected on or off, got {enabled!r}")
        allowed = id_list("BRIEFBOT_ALLOWED_CHANNELS", CHANNEL_ID_RE, "channel ids")
        admins = id_list("BRIEFBOT_ADMIN_USERS", USER_ID_RE, "user ids")
        channel = text("BRIEFBOT_REMINDER_CHANNEL")
        if channel is not None and not CONVERSATION_ID_RE.fullmatch(channel):
            raise ConfigError(
                "BRIEFBOT_REMINDER_CHANNEL",
                f"expected a channel id such as C0123ABCD, got {channel!r}",
            )
        admin_token = secret("BRIEFBOT_ADMIN_TOKEN")
        if admin_token is not None and len(admin_token.reveal()) < 16:
            raise ConfigError(
                "BRIEFBOT_ADMIN_TOKEN",
                "expected at least 16 characters (e.g. from openssl rand -hex 32)",
            )
        cache = text("BRIEFBOT_CACHE_DIR")
        xdg_cache, home = text("XDG_CACHE_HOME"), text("HOME")
        if cache is not None:
            cache_dir = None if cache.lower() == "off" else Path(cache)
        elif xdg_cache is not None and Path(xdg_cache).is_absolute():
            cache_dir = Path(xdg_cache) / "briefbot"
        else:
            cache_dir = Path(home) / ".cache" / "briefbot" if home else None
        source = (text("BRIEFBOT_FACTBASE") or "files").lower()
        if source not in FACTBASE_SOURCES:
            raise ConfigError("BRIEFBOT_FACTBASE", f"expected files or database, got {source!r}")
        return cls(
            slack_bot_token=secret("SLACK_BOT_TOKEN", "xoxb-"),
            slack_signing_secret=secret("SLACK_SIGNING_SECRET"),
            slack_app_token=secret("SLACK_APP_TOKEN", "xapp-"),
            slack_api_url=api_url,
            slack_reply_timeout_seconds=integer("BRIEFBOT_SLACK_REPLY_TIMEOUT_SECONDS", 10, 1, 60),
            seeds_dir=directory("BRIEFBOT_SEEDS_DIR", default_dir("seeds")),
            templates_dir=directory("BRIEFBOT_TEMPLATES_DIR", default_dir("templates")),
            database_url=database_url,
            timezone=zone,
            default_visibility=visibility,
            port=integer("PORT", 3000, 1, 65535),
            stale_days=integer("BRIEFBOT_STALE_DAYS", 365, 1, 36500),
            reminder_channel=channel,
            reminder_pacing_seconds=float(pacing_text),
            reminder_catch_up_hours=integer("BRIEFBOT_REMINDER_CATCH_UP_HOURS", 48, 0, 24 * 30),
            reminders_enabled=enabled == "on",
            log_level=log_level,
            allowed_channels=allowed,
            allow_dms=boolean("BRIEFBOT_ALLOW_DMS", True),
            admin_users=admins,
            watch_seeds=boolean("BRIEFBOT_WATCH_SEEDS", True),
            admin_token=admin_token,
            factbase_source=source,
            announce_publish=boolean("BRIEFBOT_ANNOUNCE_PUBLISH", False),
            cache_dir=cache_dir,
        )

    def require_http(self) -> None:
        """Check what serving HTTP needs: the bot token and the signing secret."""
        if self.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN", "expected the bot token (xoxb-...); it is not set")
        if self.slack_signing_secret is None:
            raise ConfigError(
                "SLACK_SIGNING_SECRET", "expected the app's signing secret; it is not set"
            )

    def require_socket_mode(self) -> None:
        """Check what Socket Mode needs: the bot token and the app-level token."""
        if self.slack_bot_token is None:
            raise ConfigError("SLACK_BOT_TOKEN", "expected the bot token (xoxb-...); it is not set")
        if self.slack_app_token is None:
            raise ConfigError(
                "SLACK_APP_TOKEN",
                "expected an app-level token (xapp-...) for Socket Mode; it is not set",
            )


def default_dir(name: str) -> Path:
    """Where `seeds/` or `templates/` is when its variable is not set.

    An installed wheel carries both inside the package (`bot/seeds`, `bot/templates`, see
    pyproject.toml); a checkout or an editable install has them beside the package, where
    curators edit them. Installs are unpacked on disk, so the resource is a real directory.
    """
    packaged = Path(__file__).resolve().parent / name  # what importlib.resources would give
    if packaged.is_dir():
        return packaged
    if (PACKAGE_ROOT / "pyproject.toml").is_file():
        return PACKAGE_ROOT / name
    return Path.cwd() / name
