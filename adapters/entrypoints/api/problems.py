"""Errors as RFC 9457 problem documents, one type per kind of failure."""

from __future__ import annotations

import errno
import logging
import sqlite3
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg_pool
from eventsourcing.persistence import InterfaceError, OperationalError, RecordConflictError
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.config import not_configured
from adapters.services.projection_runner import ProjectionFailed
from domain.authorization import NotAuthorised
from domain.errors import IdempotencyKeyReused, NotConfigured, ProcedureError, UnknownRecord
from domain.organisation import UnknownOwner
from ledger.errors import MalformedInput

TYPES = "https://bewijslast.nl/problems/"  # stable identifiers, documented in the API description

log = logging.getLogger(__name__)


class Problem(Exception):
    def __init__(
        self,
        status: int,
        kind: str,
        title: str,
        detail: str,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.kind, self.title, self.detail = status, kind, title, detail
        self.headers = headers or {}
        self.extra = extra


def _document(path: str, problem: Problem) -> Any:
    return jsonable_encoder(
        {
            "type": TYPES + problem.kind,
            "title": problem.title,
            "status": problem.status,
            "detail": problem.detail,
            "instance": path,
            **problem.extra,
        }
    )


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    return JSONResponse(
        _document(request.url.path, problem),
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


class FieldProblem(BaseModel):
    field: str
    problem: str


def problem_json(path: str, problem: Problem) -> bytes:
    """The document as bytes, for an answer given before the application sees the request."""
    return bytes(JSONResponse(_document(path, problem)).body)


class ProblemDocument(BaseModel):
    """RFC 9457; ``errors`` names each invalid field, ``allowed`` the steps allowed now."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldProblem] | None = None
    allowed: list[str] | None = None


PROBLEM_SCHEMA = "ProblemDocument"  # one components/schemas entry, referenced by every error
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {
            "application/problem+json": {
                "schema": {"$ref": f"#/components/schemas/{PROBLEM_SCHEMA}"}
            }
        },
    }
    for status, description in {
        400: "the request cannot be carried out as asked",
        401: "no valid API key or token",
        403: "the caller's roles do not allow this there",
        404: "no such thing",
        405: "the path does not take this method; `Allow` names those it takes",
        409: "the procedure does not allow this step now, or another step on the same record "
        "came first: try again",
        413: "the request body is larger than the server accepts",
        422: "the request is not valid; `errors` names each field",
        503: "try again later (`Retry-After`)",
        507: "the database's disk is full; nothing was recorded (`Retry-After`)",
    }.items()
}


def add_problem_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    """Put the problem document's schema where ``RESPONSES`` refers to it."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schema = ProblemDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas[PROBLEM_SCHEMA] = schema
    return openapi


def not_found(what: str) -> Problem:
    return Problem(404, "not-found", "Not found", f"{what} does not exist")


def invalid(field: str, problem: str) -> Problem:
    """422, in the same form as a body that fails validation."""
    errors = [{"field": field, "problem": problem}]
    return Problem(422, "invalid", "The request is not valid", f"{field}: {problem}", errors=errors)


def _lacks_setting(request: Request, missing: NotConfigured) -> JSONResponse:
    """Nothing was recorded; the operator must add a setting."""
    return problem_response(
        request, Problem(503, "not-configured", "The server lacks a setting", str(missing))
    )


RETRY_AFTER_UNAVAILABLE = 5
RETRY_AFTER_FULL = 60


def _causes(e: BaseException) -> Iterator[BaseException]:
    seen: BaseException | None = e
    while seen is not None:
        yield seen
        seen = seen.__cause__ or seen.__context__


def outage(e: BaseException) -> Problem | None:
    """A database that cannot be reached, or whose disk is full: the request may be repeated
    later (with its idempotency key, a command is then recorded once), so 503 or 507 with
    ``Retry-After``, not an internal error."""
    causes = list(_causes(e))
    for cause in causes:
        if (
            isinstance(cause, psycopg.errors.DiskFull)
            or (isinstance(cause, OSError) and cause.errno == errno.ENOSPC)
            or (isinstance(cause, sqlite3.Error) and cause.sqlite_errorcode == sqlite3.SQLITE_FULL)
        ):
            return Problem(
                507,
                "storage-full",
                "The database's disk is full",
                "nothing was recorded; try again once the operator has made room",
                headers={"Retry-After": str(RETRY_AFTER_FULL)},
            )
    for cause in causes:
        if isinstance(
            cause,
            OperationalError
            | InterfaceError
            | psycopg.OperationalError
            | psycopg_pool.PoolTimeout
            | sqlite3.OperationalError,
        ):
            return Problem(
                503,
                "database-unavailable",
                "The database cannot be reached",
                "try again shortly; a command sent with an Idempotency-Key is recorded once",
                headers={"Retry-After": str(RETRY_AFTER_UNAVAILABLE)},
            )
    return None


async def answer_invalid(request: Request, e: RequestValidationError) -> JSONResponse:
    errors = [
        {"field": ".".join(str(p) for p in error["loc"]), "problem": error["msg"]}
        for error in e.errors()
    ]
    detail = "; ".join(f"{x['field']}: {x['problem']}" for x in errors)
    problem = Problem(422, "invalid", "The request is not valid", detail, errors=errors)
    return problem_response(request, problem)


def install(app: FastAPI) -> None:
    """Every error the API can give becomes a problem document; none leaks a stack trace."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, e: Problem) -> JSONResponse:
        return problem_response(request, e)

    app.exception_handler(RequestValidationError)(answer_invalid)

    @app.exception_handler(NotAuthorised)
    async def _forbidden(request: Request, e: NotAuthorised) -> JSONResponse:
        return problem_response(request, Problem(403, "forbidden", "Not allowed", str(e)))

    @app.exception_handler(UnknownRecord)
    async def _unknown(request: Request, e: UnknownRecord) -> JSONResponse:
        # The same answer for an id from elsewhere as for one that never existed.
        return problem_response(request, Problem(404, "not-found", "Not found", str(e)))

    @app.exception_handler(ProcedureError)
    async def _refused(request: Request, e: ProcedureError) -> JSONResponse:
        return problem_response(
            request,
            Problem(
                409,
                "procedure",
                "The procedure does not allow this now",
                e.problem,
                allowed=e.allowed,
            ),
        )

    @app.exception_handler(RecordConflictError)
    async def _conflict(request: Request, e: RecordConflictError) -> JSONResponse:
        # Two steps on one record at once: the event store kept the first; nothing of this one
        # was recorded, and the same request may well be allowed on the record as it is now.
        return problem_response(
            request,
            Problem(
                409,
                "conflict",
                "Another step on this record came first",
                "nothing was recorded; read the record again and try again",
                headers={"Retry-After": "0"},
            ),
        )

    @app.exception_handler(IdempotencyKeyReused)
    async def _key_reused(request: Request, e: IdempotencyKeyReused) -> JSONResponse:
        errors = [{"field": "header.Idempotency-Key", "problem": str(e)}]
        return problem_response(
            request,
            Problem(422, "idempotency-key-reused", "Key used before", str(e), errors=errors),
        )

    @app.exception_handler(UnknownOwner)
    async def _unknown_owner(request: Request, e: UnknownOwner) -> JSONResponse:
        # A name outside the declared organisation names nothing here.
        return problem_response(request, Problem(404, "not-found", "Not found", str(e)))

    @app.exception_handler(MalformedInput)
    async def _malformed(request: Request, e: MalformedInput) -> JSONResponse:
        return problem_response(request, Problem(400, "bad-request", "Cannot do that", str(e)))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, e: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed"}.get(e.status_code, "http")
        # 405 keeps its Allow header (RFC 9110 15.5.6), 401 its WWW-Authenticate.
        return problem_response(
            request,
            Problem(
                e.status_code, kind, str(e.detail), str(e.detail), headers=dict(e.headers or {})
            ),
        )

    @app.exception_handler(NotConfigured)
    async def _not_configured(request: Request, e: NotConfigured) -> JSONResponse:
        return _lacks_setting(request, e)

    @app.exception_handler(ProjectionFailed)
    async def _read_model_failed(request: Request, e: ProjectionFailed) -> JSONResponse:
        missing = not_configured(e)
        if missing is not None:
            return _lacks_setting(request, missing)
        # Answering from a read model that stopped short would be answering wrongly.
        return problem_response(
            request, Problem(503, "read-model-failed", "A read model is behind the ledger", str(e))
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, e: Exception) -> JSONResponse:
        missing = not_configured(e)  # the event store library wraps what a transcoding raised
        if missing is not None:
            return _lacks_setting(request, missing)
        unavailable = outage(e)
        if unavailable is not None:
            return problem_response(request, unavailable)
        log.error("unexpected error answering %s", request.url.path, exc_info=e)
        return problem_response(
            request,
            Problem(500, "internal", "Internal error", "the server could not do this; see its log"),
        )
