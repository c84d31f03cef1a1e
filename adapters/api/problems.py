"""Errors as RFC 9457 problem documents, one type per kind of failure."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from adapters.config import not_configured
from adapters.projection_runner import ProjectionFailed
from domain.authorization import NotAuthorised
from domain.errors import NotConfigured, ProcedureError
from domain.organisation import UnknownOwner
from ledger.errors import MalformedInput

TYPES = "https://bewijslast.nl/problems/"  # stable identifiers, documented in the API description


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


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    body = {
        "type": TYPES + problem.kind,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    return JSONResponse(
        jsonable_encoder(body),
        status_code=problem.status,
        headers=problem.headers,
        media_type="application/problem+json",
    )


class ProblemDocument(BaseModel):
    """RFC 9457; ``errors`` names each invalid field, ``allowed`` the steps allowed now."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None
    allowed: list[str] | None = None


RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemDocument.model_json_schema()}},
    }
    for status, description in {
        400: "the request cannot be carried out as asked",
        401: "no valid API key or token",
        403: "the caller's roles do not allow this there",
        404: "no such thing",
        409: "the procedure does not allow this step now",
        422: "the request is not valid; `errors` names each field",
        503: "try again later",
    }.items()
}


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


def install(app: FastAPI) -> None:
    """Every error the API can give becomes a problem document; none leaks a stack trace."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, e: Problem) -> JSONResponse:
        return problem_response(request, e)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError) -> JSONResponse:
        errors = [
            {"field": ".".join(str(p) for p in error["loc"]), "problem": error["msg"]}
            for error in e.errors()
        ]
        detail = "; ".join(f"{x['field']}: {x['problem']}" for x in errors)
        problem = Problem(422, "invalid", "The request is not valid", detail, errors=errors)
        return problem_response(request, problem)

    @app.exception_handler(NotAuthorised)
    async def _forbidden(request: Request, e: NotAuthorised) -> JSONResponse:
        return problem_response(request, Problem(403, "forbidden", "Not allowed", str(e)))

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
        return problem_response(request, Problem(e.status_code, kind, str(e.detail), str(e.detail)))

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
        return problem_response(
            request,
            Problem(500, "internal", "Internal error", "the server could not do this; see its log"),
        )
