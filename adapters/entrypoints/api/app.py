"""The HTTP API: every command, every read model and the ledger, per role.

Routes are generated, not written one by one: every command class of ``domain.commands``
becomes ``POST /commands/<its name>`` with the class as its body (``commands.py``); every FG
oversight query is one entry of ``OVERSIGHT``. The actor always comes from authentication,
never from the body, and every request is authorised against the role table
(``domain.authorization``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import fastapi_offline
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import BaseRoute

from adapters.bus.relay import SCHEMA as RELAY_SCHEMA
from adapters.entrypoints.api import problems
from adapters.entrypoints.api.auth import (
    Authenticator,
    Caller,
    may_verify,
)
from adapters.entrypoints.api.commands import add_command_routes, unauthenticated_before_invalid
from adapters.entrypoints.api.edge import BodyLimits, max_body_bytes
from adapters.entrypoints.api.health import Health, Thresholds
from adapters.entrypoints.api.ledger_routes import add_ledger_routes
from adapters.entrypoints.api.problems import invalid, not_found
from adapters.entrypoints.api.services import Services, Sign, services_of, utc
from adapters.persistence.personal_data import opened
from adapters.persistence.sqldb import Database
from adapters.persistence.stores import datastore_of
from adapters.services.accountability_report import build_report, render_html
from adapters.services.checkpointer import Signing
from adapters.services.reconstruction import index_at, reconstruct
from domain.application import Bewijslast
from domain.authorization import Actor, Command, NotAuthorised, authorise, may
from domain.deadlines import local_date
from domain.errors import NotConfigured
from domain.retention import RetentionSchedule
from projections import oversight, retention
from projections.base import Cursor, ReadModel
from projections.catalogue import all_projections
from projections.incidents import IncidentRegister, breach_register, incident_register
from projections.processors import processor_register
from projections.register import (
    ProcessingRegister,
    current_register,
    history,
    public_register,
    register_as_of,
    vng_csv,
)
from projections.report import Period
from projections.reporting import reports_sent
from projections.requests import RequestRegister, request_register

DOCS_ASSETS = Path(fastapi_offline.__file__).parent / "static"
MAX_LIMIT = 500
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
Offset = Annotated[int, Query(ge=0, description="items to skip")]


def page(request: Request, response: Response, items: list[Any], limit: int, offset: int) -> Any:
    """One page of a list, with the link to the next in the body and a Link header."""
    following = None
    if offset + limit < len(items):
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
        response.headers["Link"] = f'<{following}>; rel="next"'
    return {
        "items": items[offset : offset + limit],
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "next": following,
    }


async def no_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL, so a path or query with one names nothing there.
    (``async``: no I/O, so no hop to the thread pool.)"""
    if "\x00" in request.scope["path"]:
        raise invalid("path", "contains a NUL character")
    for name, value in request.query_params.multi_items():
        if "\x00" in name + value:
            raise invalid(f"query.{name}", "contains a NUL character")


AsRecordedAt = Annotated[
    datetime | None,
    Query(description="what the ledger knew then: only entries recorded by that moment"),
]
AsOf = Annotated[datetime | None, Query(description="what was in force then, by stated time")]


def readable_by(caller: Actor) -> list[str]:
    """The municipalities whose registers the caller may read: where an FG's key points."""
    towns = []
    for town in sorted({grant.municipality for grant in caller.grants}):
        try:
            authorise(caller, Command.READ_REGISTERS, town, None)
        except NotAuthorised:
            continue
        towns.append(town)
    if not towns:
        raise NotAuthorised(f"{caller.id} may read the registers of no municipality")
    return towns


def create_app(
    app: Bewijslast,
    authenticator: Authenticator,
    sign: Sign | None,
    *,
    max_body: int | None = None,
    checkpointer: Signing | None = None,
) -> FastAPI:
    """``max_body``: the largest request body in bytes (default: BEWIJSLAST_MAX_BODY_BYTES,
    else 1 MiB). ``checkpointer``: the one that signs after decisions, whose failures
    ``/health`` reports."""
    services = Services(app, sign)
    api = FastAPI(
        title="Bewijslast",
        version="1",
        description=(
            "Privacy decisions of Dutch municipalities as a verifiable ledger. Errors are RFC 9457 "
            "problem documents (`application/problem+json`); lists are paginated (`limit`, "
            "`offset`, `next`, Link header). Authenticate with `Authorization: Bearer` and an "
            "API key (`bewijslast apikey create`) or, when configured, an OIDC token."
        ),
        routes=list(_shared_routes()),
        responses=problems.RESPONSES,
        dependencies=[Depends(no_nul)],
        docs_url=None,  # served below from the package, not from a CDN
        redoc_url=None,
    )
    api.state.authenticator = authenticator
    api.state.services = services
    api.add_middleware(BodyLimits, limit=max_body_bytes() if max_body is None else max_body)
    problems.install(api)
    unauthenticated_before_invalid(api)
    _with_problem_schema(api)
    _documentation_routes(api)

    health = Health(
        app,
        services.runner,
        Database(datastore_of(app), schema=RELAY_SCHEMA),
        Thresholds.from_environ(os.environ),
        checkpointer,
    )

    @api.get("/health", tags=["health"])
    def health_report() -> Any:
        """Always 200 while the process answers; ``status`` is ``ok``, ``degraded`` or
        ``failing``, with ``reasons``."""
        return health.report()

    @api.get("/health/ready", tags=["health"])
    def ready(response: Response) -> Any:
        """503 (with ``Retry-After``) while ``failing``: the database does not answer."""
        report = health.report()
        if report["status"] == "failing":
            response.status_code = 503
            response.headers["Retry-After"] = str(problems.RETRY_AFTER_UNAVAILABLE)
        return report

    return api


@cache
def _shared_routes() -> tuple[BaseRoute, ...]:
    """The routes of commands, registers, oversight, audit and the ledger, built once per
    process: FastAPI works out each route's parameters, body and answers when the route is
    made (~80 ms for these), and they are the same for every application; each finds its own
    through the request (``services_of``). With the application's own dependencies and
    answers, as if each application had made them itself."""
    router = APIRouter(dependencies=[Depends(no_nul)], responses=problems.RESPONSES)
    add_command_routes(router)
    _register_routes(router)
    _audit_routes(router)
    add_ledger_routes(router)
    return tuple(router.routes)


def _documentation_routes(api: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc`` with their scripts and styles from the installed
    fastapi-offline package (MIT; Swagger UI Apache-2.0, ReDoc MIT): a closed municipal
    network reaches no CDN."""
    api.mount("/docs-assets", StaticFiles(directory=DOCS_ASSETS), name="docs-assets")

    @api.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=str(api.openapi_url),
            title=f"{api.title}: API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )

    @api.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=str(api.openapi_url),
            title=f"{api.title}: API",
            redoc_js_url="/docs-assets/redoc.standalone.js",
            redoc_favicon_url="/docs-assets/favicon.png",
            with_google_fonts=False,
        )


def _with_problem_schema(api: FastAPI) -> None:
    """The OpenAPI document, made once, with the problem schema every error refers to."""
    make = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            api.openapi_schema = problems.add_problem_schema(make())
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]


RegisterQuery = Callable[[Cursor, str], Sequence[Mapping[str, object]]]
DatedQuery = Callable[[Cursor, str, date], Sequence[Mapping[str, object]]]


def _register_routes(router: APIRouter) -> None:
    @router.get("/municipalities/{municipality}/register", tags=["register"])
    def register(
        municipality: str,
        caller: Caller,
        request: Request,
        response: Response,
        as_of: AsOf = None,
        as_recorded_at: AsRecordedAt = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The register of processing activities as it stands, or as it stood: in force at
        ``as_of`` (stated), as the ledger knew it at ``as_recorded_at`` (recorded), or both."""
        services = services_of(request)
        services.may_read(caller, municipality)
        moment = None if as_of is None else utc(as_of, "query.as_of")
        with services.read_then(ProcessingRegister(), as_recorded_at) as cursor:
            if moment is None:
                rows = current_register(cursor, municipality)
            else:
                rows = register_as_of(cursor, municipality, moment)
        return page(request, response, rows, limit, offset)

    @router.get("/municipalities/{municipality}/register/{activity}/history", tags=["register"])
    def register_history(request: Request, municipality: str, activity: str, caller: Caller) -> Any:
        """Every version of one processing activity."""
        services = services_of(request)
        services.may_read(caller, municipality)
        with services.read() as cursor:
            versions = [v for v in history(cursor, activity) if v["municipality"] == municipality]
        if not versions:
            raise not_found(f"processing activity {activity} of {municipality}")
        return versions

    @router.get(
        "/municipalities/{municipality}/register.csv",
        tags=["register"],
        response_class=PlainTextResponse,
    )
    def register_csv(request: Request, municipality: str, caller: Caller) -> Response:
        """In the columns of the VNG/IBD model register."""
        services = services_of(request)
        services.may_read(caller, municipality)
        with services.read() as cursor:
            rows = current_register(cursor, municipality)
        text = vng_csv(rows, services.app.register_contacts(municipality))
        return Response(text, media_type="text/csv; charset=utf-8")

    @router.get("/public/{municipality}/register", tags=["public"])
    def published_register(request: Request, municipality: str) -> Any:
        """What the municipality publishes: no authentication, no internal fields."""
        services = services_of(request)
        services.app.check_owner(municipality)
        contacts = services.app.register_contacts(municipality)
        with services.read() as cursor:
            return public_register(cursor, municipality, contacts)

    for path, projection, query in (
        ("incidents", IncidentRegister(), _undated(incident_register)),
        ("breaches", IncidentRegister(), _undated(breach_register)),
        ("requests", RequestRegister(), request_register),
        ("processors", ProcessingRegister(), _undated(processor_register)),
    ):
        _list_route(router, path, projection, query)
    for name, question in OVERSIGHT.items():
        _oversight_route(router, name, _without_app(question))
    for name, asked in RETENTION_OVERSIGHT.items():
        _oversight_route(router, name, asked)


def _without_app(question: Question) -> AppQuestion:
    return lambda cursor, towns, now, app: question(cursor, towns, now)


def _undated(query: RegisterQuery) -> DatedQuery:
    return lambda cursor, municipality, today: query(cursor, municipality)


def _list_route(router: APIRouter, path: str, projection: ReadModel, query: DatedQuery) -> None:
    def endpoint(
        municipality: str,
        caller: Caller,
        request: Request,
        response: Response,
        as_of: AsOf = None,
        as_recorded_at: AsRecordedAt = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        services = services_of(request)
        services.may_read(caller, municipality)
        with services.read_then(projection, as_recorded_at, as_of) as cursor:
            rows = query(cursor, municipality, services.app.clock().date())
        return page(request, response, opened(services.app, rows), limit, offset)

    router.get(f"/municipalities/{{municipality}}/{path}", tags=["registers"], name=path)(endpoint)


Question = Callable[[Cursor, list[str], datetime], list[dict[str, Any]]]
# A question that needs the application's own configuration (its retention table).
AppQuestion = Callable[[Cursor, list[str], datetime, Bewijslast], list[dict[str, Any]]]
OVERSIGHT: dict[str, Question] = {
    "open-breaches": lambda c, m, now: oversight.open_breaches(c, m, now),
    "late-ap-notifications": lambda c, m, now: oversight.late_ap_notifications(c, m),
    "departures-from-fg-advice": lambda c, m, now: oversight.departures_from_fg_advice(c, m),
    "unanswered-fg-advice": lambda c, m, now: oversight.unanswered_fg_advice(c, m),
    "requests-near-deadline": lambda c, m, now: oversight.requests_near_deadline(c, m, now.date()),
    "sensitive-processing-without-dpia": lambda c, m, now: (
        oversight.sensitive_processing_without_dpia(c, m)
    ),
    "incidents-not-evaluated": lambda c, m, now: oversight.incidents_not_evaluated(c, m, now),
    "erasures": lambda c, m, now: oversight.erasures(c, m),
    # processors (art. 28) and the Cyberbeveiligingswet's early warning
    "processing-without-agreement": lambda c, m, now: oversight.processing_without_agreement(
        c, m, now.date()
    ),
    "processor-agreements-expiring": lambda c, m, now: oversight.processor_agreements_expiring(
        c, m, now.date()
    ),
    "special-categories-outside-eea": lambda c, m, now: oversight.special_categories_outside_eea(
        c, m
    ),
    "early-warnings": lambda c, m, now: oversight.early_warnings(c, m, now),
    "decisions-without-fg-advice": lambda c, m, now: oversight.decisions_without_fg_advice(c, m),
    # the incident response team (seed 002 bijlage 3)
    "evaluations-due": lambda c, m, now: oversight.evaluations_due(c, m, local_date(now)),
    "criminal-activity-without-aangifte": lambda c, m, now: (
        oversight.criminal_activity_without_aangifte(c, m)
    ),
    "addresses-not-destroyed": lambda c, m, now: oversight.addresses_not_destroyed(c, m),
    "subjects-not-informed-without-ground": lambda c, m, now: (
        oversight.subjects_not_informed_without_ground(c, m)
    ),
    # The DPIA procedure (seed 002 bijlage 4).
    "dpias-not-started": lambda c, m, now: oversight.dpias_not_started(c, m),
    "ap-consultations-past-deadline": lambda c, m, now: oversight.ap_consultations_past_deadline(
        c, m, now
    ),
    "dpia-measures-not-done": lambda c, m, now: oversight.dpia_measures_not_done(c, m),
    "dpia-reassessments-due": lambda c, m, now: oversight.dpia_reassessments_due(c, m, now),
    # rights requests and objections (issue 14)
    "requests-decided-not-sent": lambda c, m, now: oversight.requests_decided_not_sent(
        c, m, now.date()
    ),
    "objections-near-term": lambda c, m, now: oversight.objections_near_term(c, m, now.date()),
    "notices-of-default": lambda c, m, now: oversight.notices_of_default(c, m, now.date()),
}


def _schedule(app: Bewijslast) -> RetentionSchedule:
    if app.retention is None:
        raise NotConfigured("no Selectielijst table: retention needs the key store")
    return app.retention


# What is due, held and destroyed (Selectielijst 2020): due and held need the application's
# table; and the reports sent (reporting duties).
RETENTION_OVERSIGHT: dict[str, AppQuestion] = {
    "retention-due": lambda c, m, now, app: retention.retention_due(c, m, now, _schedule(app)),
    "retention-held": lambda c, m, now, app: retention.retention_held(c, m, _schedule(app)),
    "retention-destroyed": lambda c, m, now, app: retention.retention_destroyed(c, m),
    "reports-sent": lambda c, m, now, app: reports_sent(c, m),
}


def _oversight_route(router: APIRouter, name: str, question: AppQuestion) -> None:
    def endpoint(
        caller: Caller,
        request: Request,
        response: Response,
        municipality: Annotated[
            list[str] | None,
            Query(description="the municipalities to look at; by default all the caller's"),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        services = services_of(request)
        towns = sorted(set(municipality)) if municipality else readable_by(caller)
        for town in towns:
            services.may_read(caller, town)
        with services.read() as cursor:
            rows = question(cursor, towns, services.app.clock(), services.app)
        return page(request, response, opened(services.app, rows), limit, offset)

    router.get(f"/oversight/{name}", tags=["FG oversight"], name=name)(endpoint)


def _audit_routes(router: APIRouter) -> None:
    @router.get("/municipalities/{municipality}/report", tags=["audit"])
    def report(
        request: Request,
        municipality: str,
        controller: str,
        start: Annotated[date, Query(alias="from", description="the first day")],
        end: Annotated[date, Query(alias="to", description="the last day (inclusive)")],
        caller: Caller,
        format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
        lang: Annotated[str, Query(pattern="^(nl|en)$")] = "nl",
    ) -> Any:
        """The accountability report; every figure's evidence is proven by receipts."""
        services = services_of(request)
        services.may_read(caller, municipality, controller)
        for day, field in ((start, "query.from"), (end, "query.to")):
            utc(datetime.combine(day, time(), UTC), field)
        if end < start:
            raise invalid("query.to", "the period ends before it starts")
        if end == date.max:
            raise invalid("query.to", "the period must end before 9999-12-31")
        period = Period(start, end)
        built = build_report(services.app, municipality, controller, period, sign=services.sign)
        if format == "html":
            return HTMLResponse(render_html(built, lang))
        return built.to_json()

    @router.get("/reconstructions/{model}", tags=["audit"])
    def reconstruction(
        request: Request,
        model: str,
        caller: Caller,
        record: str | None = None,
        index: Annotated[int | None, Query(ge=0)] = None,
        as_recorded_at: AsRecordedAt = None,
        as_of: AsOf = None,
        at: Annotated[datetime | None, Query(deprecated=True, description="as_recorded_at")] = None,
    ) -> Any:
        """A record or a whole read model as it stood, with receipts: after a ledger
        ``index`` or as the ledger knew it at ``as_recorded_at``, and in force at ``as_of``
        (stated time); the records within the caller's grants. A whole read model replays at
        most ``MAX_EVENTS`` events (400 beyond)."""
        may_verify(caller)
        projection = next((p for p in all_projections() if p.name == model), None)
        if projection is None:
            raise not_found(f"read model {model}")
        # ``at``: the name this had before there were two times.
        moment, field = (at, "query.at") if as_recorded_at is None else (as_recorded_at, "")
        recorded = None if moment is None else utc(moment, field or "query.as_recorded_at")
        services = services_of(request)
        upto = _cut_off(services, index, recorded, as_of is not None)
        found = reconstruct(
            services.app,
            projection,
            upto=upto,
            record=record,
            as_of=None if as_of is None else utc(as_of, "query.as_of"),
            sign=services.sign,
            visible=lambda town, controller: may(caller, Command.VERIFY_LEDGER, town, controller),
        )
        return found.to_json()


def _cut_off(services: Services, index: int | None, at: datetime | None, as_of: bool) -> int:
    """The last ledger index a reconstruction takes in: ``index``, the last entry recorded at
    ``at``, or (asked only ``as_of``) the whole ledger."""
    if index is not None and at is not None:
        raise invalid("query.index", "give index or as_recorded_at, not both")
    size = services.ledger.ledger_size()
    if index is not None:
        if index >= size:
            raise not_found(f"entry {index} (the ledger holds {size})")
        return index
    if at is not None:
        found = index_at(services.ledger, at)
        if found < 0:
            raise not_found("an entry at or before that moment")
        return int(found)
    if not as_of:
        raise invalid("query.index", "give index, as_recorded_at or as_of")
    if size == 0:
        raise not_found("an entry: the ledger is empty")
    return int(size) - 1
