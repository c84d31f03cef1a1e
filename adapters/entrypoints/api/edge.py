"""What a request body must be before anything else looks at it.

The ledger never forgets, so what gets past the edge stays: a body is refused while it is
still being received when it grows past the limit (413, before it is read whole), and a JSON
body is refused (422) when it nests too deep, holds NaN or Infinity (not JSON), a lone
surrogate or a NUL anywhere (keys too: PostgreSQL text cannot hold NUL and neither a surrogate
nor NUL can be stored as UTF-8), or is not UTF-8 (a UTF-16 body is not read as text).
This is an ASGI middleware: it runs before routing and authentication, so an unauthenticated
client cannot make the server read more than the limit either.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from adapters.config import ConfigurationError
from adapters.entrypoints.api.problems import Problem, invalid, problem_json

MAX_BODY_BYTES = 1024 * 1024  # default; BEWIJSLAST_MAX_BODY_BYTES changes it
MAX_DEPTH = 16  # deeper than any command's model
_SURROGATE = re.compile("[\ud800-\udfff]")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def max_body_bytes(env: MutableMapping[str, str] | None = None) -> int:
    text = (os.environ if env is None else env).get("BEWIJSLAST_MAX_BODY_BYTES", "")
    if not text:
        return MAX_BODY_BYTES
    try:
        limit = int(text)
    except ValueError:
        limit = 0
    if limit < 1:
        raise ConfigurationError("BEWIJSLAST_MAX_BODY_BYTES must be a positive number of bytes")
    return limit


def too_large(limit: int) -> Problem:
    return Problem(
        413, "too-large", "The request body is too large", f"a body holds at most {limit} bytes"
    )


class BodyLimits:
    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _answer(scope, send, too_large(self.limit))
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.limit:  # stop reading: the rest is never received
                await _answer(scope, send, too_large(self.limit))
                return
        if body:
            refused = refusal(bytes(body))
            if refused is not None:
                await _answer(scope, send, refused)
                return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # only a disconnect can come now
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def refusal(body: bytes) -> Problem | None:
    """Why a request body is not acceptable JSON, or None."""
    try:
        text = body.decode("utf-8")  # strictly: json.loads(bytes) would also take UTF-16
    except UnicodeDecodeError:
        return invalid("body", "the body must be JSON in UTF-8")
    try:
        parsed = json.loads(text, parse_constant=_not_json)
    except _NotJSON as e:
        return invalid("body", f"{e} is not a JSON number")
    except RecursionError:
        return invalid("body", f"the body nests deeper than {MAX_DEPTH} levels")
    except ValueError as e:  # UTF-16 without a byte order mark decodes, but is no JSON
        return invalid("body", f"the body must be JSON in UTF-8 ({e})")
    return _unacceptable(parsed)


class _NotJSON(ValueError):
    pass


def _not_json(constant: str) -> Any:
    raise _NotJSON(constant)


def _unacceptable(parsed: Any) -> Problem | None:
    """Walks the document without recursion: depth, and every key and string."""
    stack: list[tuple[Any, int, str]] = [(parsed, 1, "body")]
    while stack:
        value, depth, where = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return invalid(where, f"the body nests deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    problem = _bad_text(key)
                    if problem is not None:
                        return invalid(where, f"a key {problem}")
                stack.append((item, depth + 1, f"{where}.{key}"))
        elif isinstance(value, str):
            problem = _bad_text(value)
            if problem is not None:
                return invalid(where, f"the text {problem}")
    return None


def _bad_text(text: str) -> str | None:
    if "\x00" in text:
        return "contains a NUL character"
    if _SURROGATE.search(text):
        return "contains a lone surrogate (not a Unicode character)"
    return None


async def _answer(scope: Scope, send: Send, problem: Problem) -> None:
    body = problem_json(scope.get("path", ""), problem)
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in problem.headers.items()),
    ]
    if problem.status == 413:
        headers.append((b"connection", b"close"))  # the unread rest of the body is not wanted
    await send({"type": "http.response.start", "status": problem.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
