"""``POST /commands/<name>``: one route per command class of ``domain.commands``, with the
class as its body.

FastAPI reads a route's body, headers and credentials from its endpoint's signature, for the
OpenAPI document and for every request it handles. Its general way of doing so (dependency
solving, validation through its own fields, serialising the answer) cost the API workers
more CPU than the command itself (docs/BENCHMARKS.md, "A plain command without FastAPI's
dependency solving"). So a *plain* request, the common case, is read here directly: a JSON
body that the command class accepts, no query, an idempotency key that is well-formed or
none. Every other request, and so every refusal of a malformed one, takes FastAPI's way as
before, with its problem documents unchanged; both ways record through ``CommandEndpoint``.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, APIRouter
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from adapters.entrypoints.api import problems
from adapters.entrypoints.api.auth import Credentials, authenticator_of, bearer, token_of
from adapters.entrypoints.api.services import services_of
from domain.commands import COMMANDS, CommandModel

KEY_PATTERN = r"[\x21-\x7e]+"  # printable ASCII without spaces
KEY_MAX_LENGTH = 255
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=f"^{KEY_PATTERN}$",
        description="Sent again with the same body, the command answers as the first time "
        "(same id, same status) and records nothing; with another body: 422.",
    ),
]
_KEY = re.compile(KEY_PATTERN)
REPLAYED = "Idempotent-Replayed"


class CommandEndpoint:
    """Authenticate, record, answer: what a command's route does, whichever way its request
    was read."""

    __signature__: inspect.Signature

    def __init__(self, command_class: type[CommandModel]) -> None:
        self.command_class = command_class
        # FastAPI reads the body's model from the signature: one per command class.
        self.__signature__ = inspect.Signature(
            [
                _parameter("request", Request),
                _parameter("command", command_class),
                _parameter("credentials", Credentials),
                _parameter("response", Response),
                _parameter("idempotency_key", IdempotencyKey, default=None),
            ]
        )

    def __call__(
        self,
        request: Request,
        command: CommandModel,
        credentials: HTTPAuthorizationCredentials | None,
        response: Response,
        idempotency_key: str | None,
    ) -> dict[str, Any]:
        repeated, answer = self.execute(request, command, token_of(credentials), idempotency_key)
        if repeated:
            response.headers[REPLAYED] = "true"
        return answer

    def execute(
        self,
        request: Request,
        command: CommandModel,
        token: str | None,
        idempotency_key: str | None,
    ) -> tuple[bool, dict[str, Any]]:
        """Whether the command was a repeat, and the answer. Authenticated here, in the thread
        that records, not in a dependency of its own: one hand-off to the thread pool per
        command instead of two (each cost 0.4-1.0 ms of CPU on two vCPUs, measured:
        docs/BENCHMARKS.md)."""
        caller = authenticator_of(request).actor(token)
        services = services_of(request)
        recorded = services.app.record(command, caller, idempotency_key)
        return recorded.repeated, services.answer(recorded)


def _parameter(name: str, annotation: Any, **default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=annotation, **default
    )


class CommandRoute(APIRoute):
    """A command's route: a plain request read directly, any other the way FastAPI reads it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        endpoint = self.endpoint
        if not isinstance(endpoint, CommandEndpoint):
            raise TypeError("a command's route has a CommandEndpoint")

        async def handler(request: Request) -> Response:
            plain = await plain_request(request, endpoint.command_class)
            if plain is None:
                return await standard(request)
            command, key = plain
            token = token_of(await bearer(request))
            repeated, answer = await run_in_threadpool(
                endpoint.execute, request, command, token, key
            )
            response = JSONResponse(answer, status_code=201)
            if repeated:
                response.headers[REPLAYED] = "true"
            return response

        return handler


async def plain_request(
    request: Request, command_class: type[CommandModel]
) -> tuple[CommandModel, str | None] | None:
    """The command and idempotency key of a plain request, None for any other. Only ever
    stricter than FastAPI: what is not plain is left to it, never refused here."""
    if request.scope["query_string"]:  # a command takes none (and a NUL is refused there)
        return None
    headers = request.headers
    if headers.get("content-type") != "application/json":
        return None
    key = headers.get("idempotency-key")
    if key is not None and not (len(key) <= KEY_MAX_LENGTH and _KEY.fullmatch(key)):
        return None
    body = await request.body()  # read whole and checked by the edge (edge.BodyLimits)
    try:
        return command_class.model_validate(json.loads(body)), key
    except (ValueError, ValidationError):  # FastAPI then says what is wrong
        return None


def add_command_routes(router: APIRouter) -> None:
    for name, cls in COMMANDS.items():
        router.add_api_route(
            f"/commands/{name}",
            CommandEndpoint(cls),
            methods=["POST"],
            status_code=201,
            tags=["commands"],
            name=cls.__name__,
            summary=(cls.__doc__ or cls.__name__).strip().split("\n")[0],
            description=f"Needs a role with the permission `{cls.permission.value}`.",
            route_class_override=CommandRoute,
        )


def unauthenticated_before_invalid(api: FastAPI) -> None:
    """FastAPI validates a body before the endpoint runs: a command whose body is not valid is
    refused as unauthenticated (401) first when its caller is, as on every route that has the
    caller as a dependency; only an authenticated caller learns what is wrong with a body."""

    async def handler(request: Request, e: RequestValidationError) -> Response:
        if isinstance(request.scope.get("endpoint"), CommandEndpoint):
            try:
                token = token_of(await bearer(request))
                await run_in_threadpool(authenticator_of(request).actor, token)
            except problems.Problem as problem:
                return problems.problem_response(request, problem)
        return await problems.answer_invalid(request, e)

    api.exception_handler(RequestValidationError)(handler)
