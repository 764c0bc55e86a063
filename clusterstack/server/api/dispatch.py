"""From an HTTP request's parameters to a CloudStack answer: authenticate, authorize, validate, run.

Every answer, good or bad, is (HTTP status, command name, payload). A bad input raises ApiError before
anything is written, and the unit of work is rolled back on any error, so a refused request changes nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from clusterstack.server.api import errors
from clusterstack.server.api.caller import Caller
from clusterstack.server.api.context import CallContext
from clusterstack.server.api.errors import ApiError
from clusterstack.server.api.params import parse_params, refuse_control_characters
from clusterstack.server.api.registry import ApiCommand, find_command
from clusterstack.server.api.responses import error_payload, payload_of
from clusterstack.server.api.signing import parse_expires, signature_matches
from clusterstack.server.db.transient import run_again_on_transient
from clusterstack.server.identity import authentication
from clusterstack.server.identity.login_throttle import CURRENT_ATTEMPT, LoginAttempt, LoginThrottle
from clusterstack.server.logging_setup import log_context
from clusterstack.server.metrics import API_LATENCY, API_REQUESTS
from clusterstack.server.settings import define_setting
from clusterstack.server.settings import get as get_setting
from clusterstack.server.state import ServerState

log = logging.getLogger("clusterstack.server.api")

INTERNAL_ERROR_TEXT = "Internal error executing command, please contact your system administrator"
AUTH_PARAMS = frozenset({"apikey", "signature", "signatureversion", "expires", "sessionkey", "response", "command"})

SIGNATURE_MAX_AHEAD = define_setting(
    "api.signature.max.ahead.minutes", 15, "Advanced",
    "Refuse v3-signed requests whose expires lies more than this many minutes ahead (0 = no limit): a signed "
    "URL that leaks stays usable at most this long", minimum=0,
)
SESSION_COOKIE = "JSESSIONID"


@dataclass
class ApiAnswer:
    status: int
    command: str
    payload: dict[str, Any]
    cookies: dict[str, str] = field(default_factory=dict)
    clear_cookies: list[str] = field(default_factory=list)


def error_answer(command: str, err: ApiError) -> ApiAnswer:
    return ApiAnswer(err.errorcode, command, error_payload(err.errorcode, err.cserrorcode, err.text))


class Dispatcher:
    def __init__(self, server: ServerState, login_throttle: LoginThrottle | None = None) -> None:
        self.server = server
        self.login_throttle = login_throttle or LoginThrottle()

    def handle(
        self, params: dict[str, str], headers: dict[str, str], cookies: dict[str, str], source: str = ""
    ) -> ApiAnswer:
        """Answer one request; `source` is the client's address (failed logins are throttled per address)."""
        started = time.perf_counter()
        command_name = params.get("command", "")
        request_id = uuid.uuid4().hex[:8]
        attempt = CURRENT_ATTEMPT.set(LoginAttempt(self.login_throttle, source))
        try:
            with log_context(request_id):
                answer = self._handle(command_name, request_id, params, headers, cookies)
        finally:
            CURRENT_ATTEMPT.reset(attempt)
        elapsed = time.perf_counter() - started
        label = answer.command.lower() if find_command(answer.command) else "unknown"
        API_REQUESTS.labels(label, str(answer.status)).inc()
        API_LATENCY.labels(label).observe(elapsed)
        if log.isEnabledFor(logging.DEBUG):
            # CloudStack's "===END===" line; the log's redaction filter blanks passwords, keys and signatures
            with log_context(request_id):
                log.debug("===END=== %s %d %.1fms -- %s", command_name, answer.status, elapsed * 1000,
                          urlencode(params))
        return answer

    def _handle(
        self, command_name: str, request_id: str, params: dict[str, str], headers: dict[str, str],
        cookies: dict[str, str],
    ) -> ApiAnswer:
        command = find_command(command_name) if command_name else None
        # CloudStack answers an unknown (or missing) command as "errorresponse", a known one under its own name
        reply_as = command.name if command else "error"
        def unit_of_work() -> ApiAnswer:
            with self.server.database.session() as db:
                caller = None
                if command is None or command.authenticated:
                    caller = self._authenticate(db, params, headers, cookies)
                if command is None or (caller is not None and not authentication.is_allowed(db, caller, command)):
                    raise errors.unknown_command()
                parsed = parse_params(command, params)
                ctx = CallContext(db=db, caller=caller, server=self.server, command=command.name,
                                  request_id=request_id)
                payload = self._run(ctx, command, parsed, params)
                return ApiAnswer(200, command.name, payload, ctx.response_cookies, ctx.clear_cookies)

        try:
            refuse_control_characters(params)
            # a request the database aborted as a deadlock or serialization failure was rolled back whole: run it again
            return run_again_on_transient(unit_of_work, on_retry=lambda exc, attempt: log.info(
                "%s: the database aborted attempt %d (%s); running it again", reply_as, attempt,
                str(getattr(exc, "orig", exc)).splitlines()[0]))
        except ApiError as err:
            if err.errorcode >= 500:
                log.warning("%s failed: %s", reply_as, err.text)
            return error_answer(reply_as, err)
        except Exception:
            log.exception("unexpected error executing %s", reply_as)
            return error_answer(reply_as, errors.internal_error(INTERNAL_ERROR_TEXT))

    def _run(
        self, ctx: CallContext, command: ApiCommand, parsed: dict[str, Any], raw: dict[str, str]
    ) -> dict[str, Any]:
        if not command.isasync:
            return payload_of(command.handler(ctx, parsed))
        target = command.prepare(ctx, parsed) if command.prepare else None
        job_params = {k: v for k, v in raw.items() if k.lower() not in AUTH_PARAMS}
        jobs = self.server.service("jobs")
        job_uuid = jobs.submit(ctx.db, ctx.user, command.name, job_params, target)
        answer: dict[str, Any] = {"jobid": job_uuid}
        if target is not None and target.instance_uuid is not None:
            answer["id"] = target.instance_uuid
        return answer

    def _authenticate(
        self, db: Any, params: dict[str, str], headers: dict[str, str], cookies: dict[str, str]
    ) -> Caller:
        lowered = {k.lower(): v for k, v in params.items()}
        if "apikey" in lowered or "signature" in lowered:
            return self._verify_signature(db, params, lowered)
        session_key = lowered.get("sessionkey") or headers.get("sessionkey")
        session_id = cookies.get(SESSION_COOKIE)
        # As CloudStack's ApiServlet: the sessionkey counts only together with the JSESSIONID cookie of its own
        # session (a leaked key alone, or a key replayed under another session's cookie, authenticates nothing)
        if session_key and session_id:
            caller = authentication.caller_for_session(db, self.server, session_key, session_id)
            if caller is not None:
                return caller
        raise errors.unauthorized()

    def _verify_signature(self, db: Any, params: dict[str, str], lowered: dict[str, str]) -> Caller:
        api_key, signature = lowered.get("apikey"), lowered.get("signature")
        if not api_key or not signature:
            raise errors.unauthorized()
        if lowered.get("signatureversion") == "3":
            expires = parse_expires(lowered.get("expires", ""))
            now = datetime.now(UTC)
            if expires is None:
                raise errors.unauthorized("missing or malformed expires parameter for signature version 3")
            if expires < now:
                raise errors.unauthorized("Request expired -- ignoring ...sig: " + signature)
            ahead = get_setting(db, SIGNATURE_MAX_AHEAD)
            if ahead and expires - now > timedelta(minutes=ahead):
                raise errors.unauthorized(f"expires is more than {ahead} minutes ahead")
        found = authentication.caller_for_api_key(db, self.server, api_key)
        if found is None:
            raise errors.unauthorized()
        caller, secret = found
        if not signature_matches(params, signature, secret):
            raise errors.unauthorized()
        return caller
