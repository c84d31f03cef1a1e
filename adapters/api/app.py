"""The HTTP API: every command, every read model and the ledger, per role.

Routes are generated, not written one by one: every command class of ``domain.commands``
becomes ``POST /commands/<name>`` with the class as its body; every read model query is one
entry of ``QUERIES``. The actor always comes from authentication, never from the body, and
every request is authorised against the role table (``domain.authorization``).
"""

import inspect
import re
import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from fastapi import Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from adapters.api import problems
from adapters.api.auth import Authenticator
from adapters.api.problems import Problem, not_found
from adapters.evidence import checkpoint_for, checkpoint_size, prove
from adapters.projection_runner import ProjectionRunner
from adapters.reconstruction import index_at, reconstruct
from adapters.report import build_report, render_html
from domain import commands as command_module
from domain.application import Bewijslast
from domain.authorization import Actor, Command, authorise
from domain.commands import CommandModel, CreateCommand, StepCommand
from ledger.bundle import export_bundle
from ledger.merkle import consistency_proof, inclusion_proof, tree_root
from ledger.note import b64
from projections import oversight
from projections.catalogue import all_projections
from projections.incidents import breach_register, incident_register
from projections.register import (
    current_register,
    history,
    public_register,
    register_as_of,
    vng_csv,
)
from projections.report import Period
from projections.requests import request_register

MAX_LIMIT = 500


def command_classes() -> dict[str, type[CommandModel]]:
    """Every concrete command, by its name in kebab case (``TriageIncident``: triage-incident)."""
    found = {}
    for cls in vars(command_module).values():
        if (
            isinstance(cls, type)
            and issubclass(cls, CommandModel)
            and cls not in (CommandModel, CreateCommand, StepCommand)
        ):
            found[re.sub(r"(?<!^)(?=[A-Z])", "-", cls.__name__).lower()] = cls
    return found


class Services:
    def __init__(
        self, app: Bewijslast, authenticator: Authenticator, sign: Callable[[], str] | None
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.sign = sign
        self.runner = ProjectionRunner(app, all_projections())
        self.recorder: Any = app.recorder

    def read(self) -> Any:
        """A transaction on caught-up read models: answers are never behind the ledger."""
        self.runner.catch_up_all()
        return self.runner.db.transaction()


def page(request: Request, response: Response, items: list[Any], limit: int, offset: int) -> Any:
    """One page of a list, with the link to the next in the body and a Link header."""
    chosen = items[offset : offset + limit]
    following = None
    if offset + limit < len(items):
        following = str(request.url.include_query_params(offset=offset + limit, limit=limit))
        response.headers["Link"] = f'<{following}>; rel="next"'
    return {
        "items": chosen,
        "total": len(items),
        "offset": offset,
        "limit": limit,
        "next": following,
    }


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]


def create_app(
    app: Bewijslast, authenticator: Authenticator, sign: Callable[[], str] | None
) -> FastAPI:
    services = Services(app, authenticator, sign)
    api = FastAPI(
        title="Bewijslast",
        version="1",
        description=(
            "Privacy decisions of Dutch municipalities as a verifiable ledger. Errors are RFC 9457 "
            "problem documents; lists are paginated (`limit`, `offset`, `next`, Link header)."
        ),
    )
    problems.install(api)

    def actor(authorization: Annotated[str | None, Header()] = None) -> Actor:
        return services.authenticator.actor(authorization)

    Caller = Annotated[Actor, Depends(actor)]

    def may_read(caller: Actor, municipality: str) -> None:
        authorise(caller, Command.READ_REGISTERS, municipality, None)

    _command_routes(api, services, actor)

    # --- read models --------------------------------------------------------------------

    @api.get("/municipalities/{municipality}/register", tags=["register"])
    def register(
        municipality: str,
        caller: Caller,
        request: Request,
        response: Response,
        as_of: datetime | None = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        """The register of processing activities as it stands, or as it stood at ``as_of``."""
        may_read(caller, municipality)
        with services.read() as cursor:
            if as_of is None:
                rows = current_register(cursor, municipality)
            else:
                rows = register_as_of(cursor, municipality, _aware(as_of))
        return page(request, response, rows, limit, offset)

    @api.get("/municipalities/{municipality}/register/{activity}/history", tags=["register"])
    def register_history(municipality: str, activity: str, caller: Caller) -> Any:
        may_read(caller, municipality)
        with services.read() as cursor:
            versions = [v for v in history(cursor, activity) if v["municipality"] == municipality]
        if not versions:
            raise not_found(f"processing activity {activity} of {municipality}")
        return versions

    @api.get(
        "/municipalities/{municipality}/register.csv",
        tags=["register"],
        response_class=PlainTextResponse,
    )
    def register_csv(municipality: str, caller: Caller) -> Response:
        """In the columns of the VNG/IBD model register."""
        may_read(caller, municipality)
        with services.read() as cursor:
            text = vng_csv(current_register(cursor, municipality))
        return Response(text, media_type="text/csv; charset=utf-8")

    @api.get("/public/{municipality}/register", tags=["public"])
    def published_register(municipality: str) -> Any:
        """What the municipality publishes: no authentication, no internal fields."""
        with services.read() as cursor:
            return public_register(cursor, municipality)

    for path, query, needs_today in (
        ("incidents", incident_register, False),
        ("breaches", breach_register, False),
        ("requests", request_register, True),
    ):
        _list_route(api, services, path, query, needs_today, may_read, actor)

    for name, question in OVERSIGHT.items():
        _oversight_route(api, services, name, question, actor)

    @api.get("/municipalities/{municipality}/report", tags=["report"])
    def report(
        municipality: str,
        controller: str,
        start: date,
        end: date,
        caller: Caller,
        format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
        lang: Annotated[str, Query(pattern="^(nl|en)$")] = "nl",
    ) -> Any:
        """The accountability report; every figure's evidence is proven by receipts."""
        may_read(caller, municipality)
        if end < start:
            raise Problem(400, "bad-request", "Cannot do that", "the period ends before it starts")
        built = build_report(
            services.app, municipality, controller, Period(start, end), sign=services.sign
        )
        if format == "html":
            return HTMLResponse(render_html(built, lang))
        return built.to_json()

    @api.get("/reconstructions/{model}", tags=["audit"])
    def reconstruction(
        model: str,
        caller: Caller,
        record: str | None = None,
        index: Annotated[int | None, Query(ge=0)] = None,
        at: datetime | None = None,
    ) -> Any:
        """A record or a whole read model as of a ledger index or a moment, with receipts."""
        _may_verify(caller)
        projection = next((p for p in all_projections() if p.name == model), None)
        if projection is None:
            raise not_found(f"read model {model}")
        if index is not None and at is None:
            upto = index
        elif at is not None and index is None:
            upto = index_at(services.recorder, _aware(at))
        else:
            raise Problem(400, "bad-request", "Cannot do that", "give either index or at")
        if upto < 0:
            raise Problem(404, "not-found", "Not found", "the ledger held nothing yet then")
        return reconstruct(
            services.app, projection, upto=upto, record=record, sign=services.sign
        ).to_json()

    _ledger_routes(api, services, actor)

    @api.get("/health", tags=["health"])
    def health() -> Any:
        size = services.recorder.ledger_size()
        note = services.recorder.latest_signed_checkpoint()
        return {
            "status": "ok",
            "ledger_size": size,
            "checkpoint_size": None if note is None else checkpoint_size(note),
        }

    return api


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise Problem(400, "bad-request", "Cannot do that", "give moments with their UTC offset")
    return moment


def _may_verify(caller: Actor) -> None:
    """Whole-ledger material (states, reconstructions) for those who may verify somewhere."""
    for grant in caller.grants:
        try:
            authorise(caller, Command.VERIFY_LEDGER, grant.municipality, grant.controller)
            return
        except Exception:  # noqa: S112 - try the next grant
            continue
    raise Problem(403, "forbidden", "Not allowed", f"{caller.id} may not verify the ledger")


def _command_routes(api: FastAPI, services: Services, actor: Callable[..., Actor]) -> None:
    for name, cls in command_classes().items():

        def endpoint(command: Any, caller: Actor) -> Any:
            before = services.recorder.ledger_size()
            try:
                record = services.app.execute(command, caller)
            except AggregateNotFoundError:
                raise not_found(f"record {command.aggregate_id}") from None
            return {
                "id": str(record),
                "ledger_from": before,
                "ledger_to": services.recorder.ledger_size(),
            }

        endpoint.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [
                inspect.Parameter(
                    "command", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=cls
                ),
                inspect.Parameter(
                    "caller",
                    inspect.Parameter.POSITIONAL_OR_KEYWORD,
                    annotation=Annotated[Actor, Depends(actor)],
                ),
            ]
        )
        api.post(
            f"/commands/{name}",
            status_code=201,
            tags=["commands"],
            name=cls.__name__,
            summary=(cls.__doc__ or cls.__name__).strip().split("\n")[0],
            description=f"Needs the permission `{cls.permission.value}`.",
        )(endpoint)


def _list_route(api, services, path, query, needs_today, may_read, actor) -> None:  # type: ignore[no-untyped-def]
    def endpoint(
        municipality: str,
        caller: Annotated[Actor, Depends(actor)],
        request: Request,
        response: Response,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        may_read(caller, municipality)
        with services.read() as cursor:
            if needs_today:
                rows = query(cursor, municipality, services.app.clock().date())
            else:
                rows = query(cursor, municipality)
        return page(request, response, rows, limit, offset)

    api.get(f"/municipalities/{{municipality}}/{path}", tags=["registers"], name=path)(endpoint)


OVERSIGHT: dict[str, Callable[[Any, list[str], datetime], list[dict[str, Any]]]] = {
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
}


def _oversight_route(api, services, name, question, actor) -> None:  # type: ignore[no-untyped-def]
    def endpoint(
        caller: Annotated[Actor, Depends(actor)],
        request: Request,
        response: Response,
        municipality: Annotated[list[str], Query(min_length=1)],
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> Any:
        for town in municipality:
            authorise(caller, Command.READ_REGISTERS, town, None)
        with services.read() as cursor:
            rows = question(cursor, municipality, services.app.clock())
        return page(request, response, rows, limit, offset)

    api.get(f"/oversight/{name}", tags=["FG oversight"], name=name)(endpoint)


def _ledger_routes(api: FastAPI, services: Services, actor: Callable[..., Actor]) -> None:
    """Public, as a transparency log's are (entries hold no personal data); states only in
    bundles, for those who may verify."""
    recorder = services.recorder

    def size() -> int:
        return int(recorder.ledger_size())

    @api.get("/ledger/checkpoint", tags=["ledger"], response_class=PlainTextResponse)
    def checkpoint() -> Response:
        note = recorder.latest_signed_checkpoint()
        if note is None:
            raise not_found("a signed checkpoint")
        return PlainTextResponse(note)

    @api.get("/ledger/entries", tags=["ledger"])
    def entries(
        request: Request,
        response: Response,
        after: Annotated[int, Query(ge=-1)] = -1,
        limit: Limit = 100,
    ) -> Any:
        first, last = after + 1, min(after + limit, size() - 1)
        items = [
            {
                "entry": r.entry.to_object(),
                "leaf_hash": r.leaf_hash.hex(),
                "chain_hash": r.chain_hash.hex(),
            }
            for r in (recorder.records(first, last) if first <= last else [])
        ]
        following = None
        if last < size() - 1:
            following = str(request.url.include_query_params(after=last, limit=limit))
            response.headers["Link"] = f'<{following}>; rel="next"'
        return {"items": items, "next": following}

    @api.get("/ledger/proofs/inclusion", tags=["ledger"])
    def inclusion(
        index: Annotated[int, Query(ge=0)], tree_size: Annotated[int, Query(ge=1)]
    ) -> Any:
        _within(tree_size, size())
        if index >= tree_size:
            raise Problem(400, "bad-request", "Cannot do that", "index must be below tree_size")
        return {
            "index": index,
            "tree_size": tree_size,
            "root": b64(tree_root(tree_size, recorder)),
            "path": [b64(h) for h in inclusion_proof(index, tree_size, recorder)],
        }

    @api.get("/ledger/proofs/consistency", tags=["ledger"])
    def consistency(
        old_size: Annotated[int, Query(ge=1)], new_size: Annotated[int, Query(ge=1)]
    ) -> Any:
        _within(new_size, size())
        if old_size > new_size:
            raise Problem(400, "bad-request", "Cannot do that", "old_size must not exceed new_size")
        return {
            "old_size": old_size,
            "new_size": new_size,
            "path": [b64(h) for h in consistency_proof(old_size, new_size, recorder)],
        }

    @api.get("/ledger/receipts/{index}", tags=["ledger"], response_class=PlainTextResponse)
    def receipt(index: int) -> Response:
        if not 0 <= index < size():
            raise not_found(f"entry {index}")
        note = checkpoint_for(recorder, index, services.sign)
        return PlainTextResponse(prove(recorder, [index], note)[index].receipt.format())

    @api.get("/ledger/bundle", tags=["ledger"], response_class=Response)
    def bundle(
        caller: Annotated[Actor, Depends(actor)],
        first: Annotated[int, Query(ge=0)] = 0,
        last: Annotated[int | None, Query(ge=0)] = None,
    ) -> Response:
        """An export bundle (zip) with states, for offline verification."""
        _may_verify(caller)
        end = size() - 1 if last is None else last
        if not first <= end < size():
            raise Problem(400, "bad-request", "Cannot do that", f"no entries {first}..{end}")
        checkpoint_for(recorder, end, services.sign)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bundle.zip"
            export_bundle(
                recorder, path, origin=_origin(recorder), verifier_keys=[], first=first, last=end
            )
            data = path.read_bytes()
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="ledger-{first}-{end}.zip"'},
        )


def _origin(recorder: Any) -> str:
    note = recorder.latest_signed_checkpoint()
    return str(note.split("\n", 1)[0])


def _within(tree_size: int, size: int) -> None:
    if tree_size > size:
        raise Problem(400, "bad-request", "Cannot do that", f"the ledger holds {size} entries")
