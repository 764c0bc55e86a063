"""The management-server log, in CloudStack's style, with secrets redacted from every record.

CloudStack writes `/var/log/cloudstack/management/management-server.log` with the log4j pattern
`%d{ISO8601} %-5p [%c{1.}] (%t:%x) (logid:%X{logcontextid}) %m%n`, for example

    2017-05-11 14:41:47,678 INFO  [c.c.s.api] (qtp-12:ctx-99440fa4) (logid:749b2562) message

clusterstack writes the same shape to `<data-dir>/logs/management-server.log`: time, level (padded to five),
the logger abbreviated as log4j's `%c{1.}` does, the thread with the request or job context, the log id, and
the message. A request binds its log id with `log_context(...)`; a job worker binds its job id too, so that
every line a request or a job writes can be found with one grep.
"""

from __future__ import annotations

import contextvars
import logging
import logging.handlers
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

LOG_FILE = "management-server.log"
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_BACKUP_COUNT = 10
REDACTED = "*****"

# The parameters whose values never reach the log (CloudStack's StringUtils.cleanString does the same).
SECRET_NAMES = ("password", "currentpassword", "secretkey", "secret_key", "signature", "sessionkey",
                "sessionid", "jsessionid", "privatekey", "token", "sig")


# log4j's level names, as CloudStack's log shows them
LEVEL_NAMES = {"WARNING": "WARN", "CRITICAL": "FATAL"}


@dataclass(frozen=True)
class LogContext:
    ctx: str  # the request or job context id ("ctx-" is prepended when rendered)
    logid: str
    job: str | None = None


_CONTEXT: contextvars.ContextVar[LogContext | None] = contextvars.ContextVar("clusterstack_log_context",
                                                                              default=None)


@contextmanager
def log_context(logid: str, job: str | None = None) -> Iterator[LogContext]:
    """Bind a log id (and optionally a job id) to every record written inside the block."""
    bound = LogContext(ctx=logid[:8], logid=logid, job=job)
    token = _CONTEXT.set(bound)
    try:
        yield bound
    finally:
        _CONTEXT.reset(token)


def current_log_context() -> LogContext | None:
    return _CONTEXT.get()


def abbreviate(logger_name: str) -> str:
    """log4j's %c{1.}: every package segment but the last cut to its first letter."""
    parts = logger_name.split(".")
    return ".".join([p[:1] for p in parts[:-1]] + parts[-1:])


# `name=value`, `name: value`, `"name": "value"`, `'name': 'value'` — the value up to a separator; a value in
# angle brackets (`password=<new password>`) whole, so that no part of it is left behind the mask.
_NAMES = "|".join(SECRET_NAMES)
_SECRET_PATTERN = re.compile(
    rf"""(?<![A-Za-z0-9_])(?P<key>["']?(?:{_NAMES})["']?\s*(?:=|:)\s*)(?P<quote>["']?)"""
    r"""(?P<value><[^<>\n]*>|[^"'&,;\s}\])]+)""",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Replace the value of every secret-named parameter in `text`."""
    return _SECRET_PATTERN.sub(lambda m: f"{m.group('key')}{m.group('quote')}{REDACTED}", text)


class RedactSecrets(logging.Filter):
    """Rewrites each record so that its message and traceback carry no secret values."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


class CloudStackFormatter(logging.Formatter):
    """`2024-05-01 12:34:56,789 INFO  [c.s.a.dispatch] (worker-3:ctx-1a2b3c4d) (logid:1a2b3c4d) message`."""

    converter = time.gmtime  # UTC, like the API's dates

    def __init__(self) -> None:
        super().__init__(datefmt="%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        bound = _CONTEXT.get()
        if bound is None:
            thread, logid = record.threadName, "00000000"
        else:
            job = f" job-{bound.job}" if bound.job else ""
            thread, logid = f"{record.threadName}:ctx-{bound.ctx}{job}", bound.logid
        stamp = f"{self.formatTime(record, self.datefmt)},{int(record.msecs):03d}"
        level = LEVEL_NAMES.get(record.levelname, record.levelname)
        line = (f"{stamp} {level:<5} [{abbreviate(record.name)}] ({thread}) (logid:{logid}) "
                f"{record.getMessage()}")
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line = f"{line}\n{record.exc_text}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


def log_path(data_dir: Path) -> Path:
    return data_dir / "logs" / LOG_FILE


def configure_logging(
    data_dir: Path,
    *,
    level: str = "INFO",
    console_level: str = "WARNING",
    max_bytes: int = DEFAULT_MAX_BYTES,
    backup_count: int = DEFAULT_BACKUP_COUNT,
) -> Path:
    """Send the root logger to `<data-dir>/logs/management-server.log` (rotated) and warnings to stderr.

    Calling it again replaces the handlers it installed before (tests and `serve` may both call it).
    """
    path = log_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_clusterstack", False):
            root.removeHandler(handler)
            handler.close()
    redactor = RedactSecrets()
    formatter = CloudStackFormatter()
    file_handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backup_count,
                                                        encoding="utf-8")
    console = logging.StreamHandler()
    for handler, handler_level in ((file_handler, level), (console, console_level)):
        handler.setLevel(handler_level.upper())
        handler.addFilter(redactor)
        handler.setFormatter(formatter)
        handler._clusterstack = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(min(logging.getLevelName(level.upper()), logging.getLevelName(console_level.upper())))
    # The HTTP clients log every request at INFO (one line per poll of every followed cluster): they speak only
    # at WARNING, unless the log is at DEBUG, which brings them back.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG if level.upper() == "DEBUG" else logging.WARNING)
    # uvicorn's own loggers go through ours instead of its default console configuration
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return path
