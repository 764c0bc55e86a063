"""Global configuration (listConfigurations / updateConfiguration), with CloudStack's names where they exist.

A module that reads a setting defines it beside its use with `define_setting`; the value an operator set
lives in the `configuration` table, the default here.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from clusterstack.server.db.models.configuration import ConfigurationValue


class SettingError(ValueError):
    """An unknown setting name or a value of the wrong type or outside its allowed values."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    type: type  # str, int, float or bool
    category: str
    description: str
    choices: tuple[Any, ...] | None = None
    minimum: float | None = None
    dynamic: bool = True  # applies without a restart

    def parse(self, raw: str) -> Any:
        text = raw.strip()
        try:
            if self.type is bool:
                if text.lower() not in ("true", "false"):
                    raise ValueError
                value: Any = text.lower() == "true"
            elif self.type is int:
                value = int(text)
            elif self.type is float:
                value = float(text)
            else:
                value = raw
        except ValueError:
            raise SettingError(f"value '{raw}' for {self.name} is not a valid {self.type.__name__}") from None
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise SettingError(f"value '{raw}' for {self.name} is not one of: {allowed}")
        if self.minimum is not None and value < self.minimum:
            raise SettingError(f"value '{raw}' for {self.name} is below the minimum {self.minimum}")
        return value

    def render(self, value: Any) -> str:
        return str(value).lower() if isinstance(value, bool) else str(value)


_REGISTRY: dict[str, Setting] = {}


def define_setting(
    name: str,
    default: Any,
    category: str,
    description: str,
    *,
    choices: tuple[Any, ...] | None = None,
    minimum: float | None = None,
    dynamic: bool = True,
) -> Setting:
    setting = Setting(name, default, type(default), category, description, choices, minimum, dynamic)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != setting:
        raise RuntimeError(f"setting {name} defined twice with different meanings")
    _REGISTRY[name] = setting
    return setting


def all_settings() -> list[Setting]:
    return sorted(_REGISTRY.values(), key=lambda s: s.name)


def lookup(name: str) -> Setting:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise SettingError(f"configuration {name} does not exist") from None


CACHE_SECONDS = 2.0  # another management server's change is seen within this long
# per database engine: the values read, each with the moment it goes stale
_cache: weakref.WeakKeyDictionary[Any, dict[str, tuple[float, Any]]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def get(db: Session, setting: Setting | str) -> Any:
    """The value in force: read through a short cache, since hot paths (every API request) read settings."""
    setting = lookup(setting) if isinstance(setting, str) else setting
    engine = db.get_bind()
    engine = getattr(engine, "engine", engine)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(engine, {}).get(setting.name)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = db.get(ConfigurationValue, setting.name)
    value = setting.default if row is None or row.value is None else setting.parse(row.value)
    with _cache_lock:
        _cache.setdefault(engine, {})[setting.name] = (now + CACHE_SECONDS, value)
    return value


def forget_cached() -> None:
    with _cache_lock:
        _cache.clear()


def put(db: Session, name: str, raw: str | None) -> Any:
    """Set (or, with None, reset to its default) a setting; returns the value now in force."""
    setting = lookup(name)
    forget_cached()
    row = db.get(ConfigurationValue, name)
    if raw is None:
        if row is not None:
            db.delete(row)
        return setting.default
    value = setting.parse(raw)
    if row is None:
        db.add(ConfigurationValue(name=name, value=setting.render(value)))
    else:
        row.value = setting.render(value)
    return value


DEFAULT_PAGE_SIZE = define_setting(
    "default.page.size", 500, "Advanced",
    "Default page size for API list* commands, and the largest pagesize a caller may ask for", minimum=1,
)
