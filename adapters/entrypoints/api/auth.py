"""Who is calling: an API key, or (when configured) an OIDC JWT from the municipality's
identity provider, checked against the provider's published keys (JWKS)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, cast

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.entrypoints.api.problems import Problem
from adapters.persistence.api_keys import OIDC_ACTORS, ApiKeys, parse_grant
from domain.authorization import DEPLOYMENT, Actor, Command, Grant, may

GRANTS_CLAIM = "bewijslast_grants"  # a list of "ROLE:MUNICIPALITY[:CONTROLLER]"
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]  # asymmetric only: no shared secrets


@dataclass(frozen=True)
class OIDC:
    issuer: str
    audience: str
    jwks_url: str
    # The actor is the token's verified e-mail address instead of its ``sub``.
    email_actor: bool = False

    @classmethod
    def from_environ(cls, env: Mapping[str, str] | None = None) -> OIDC | None:
        env = os.environ if env is None else env
        names = ("BEWIJSLAST_OIDC_ISSUER", "BEWIJSLAST_OIDC_AUDIENCE", "BEWIJSLAST_OIDC_JWKS_URL")
        values = [env.get(n, "") for n in names]
        if not any(values):
            return None
        if not all(values):
            missing = ", ".join(n for n, v in zip(names, values, strict=True) if not v)
            raise ValueError(f"OIDC is half configured: set {missing} too")
        email = env.get("BEWIJSLAST_OIDC_ACTOR_EMAIL", "").lower()
        if email not in ("", "true", "false", "1", "0", "yes", "no"):
            raise ValueError("BEWIJSLAST_OIDC_ACTOR_EMAIL is true or false")
        issuer, audience, jwks_url = values
        return cls(issuer, audience, jwks_url, email_actor=email in ("true", "1", "yes"))

    def actor_id(self, claims: Mapping[str, Any]) -> str:
        """Namespaced by the issuer, so that no two providers' users, nor an API key's actor
        (``OIDC_ACTORS`` is refused there), can be the same actor. An e-mail address only when
        so configured and the provider says it verified it: anyone can put one in a token."""
        if self.email_actor and claims.get("email_verified") is True and claims.get("email"):
            return f"{OIDC_ACTORS}{self.issuer}#email={claims['email']}"
        return f"{OIDC_ACTORS}{self.issuer}#sub={claims['sub']}"


def unauthenticated(detail: str) -> Problem:
    return Problem(
        401,
        "unauthenticated",
        "Authentication needed",
        detail,
        headers={"WWW-Authenticate": 'Bearer realm="bewijslast"'},
    )


class Authenticator:
    def __init__(self, keys: ApiKeys, oidc: OIDC | None) -> None:
        self.keys = keys
        self.oidc = oidc
        self.jwks = (
            None if oidc is None else jwt.PyJWKClient(oidc.jwks_url, cache_keys=True, timeout=5)
        )

    def actor(self, token: str | None) -> Actor:
        """The actor a bearer token stands for; 401 when there is none or it is not valid."""
        if not token:
            raise unauthenticated("send 'Authorization: Bearer <API key or OIDC token>'")
        if token.count(".") == 2 and self.oidc is not None and self.jwks is not None:
            return self._from_jwt(token, self.oidc, self.jwks)
        actor = self.keys.actor_for(token)
        if actor is None:
            raise unauthenticated("the API key is unknown or revoked")
        return actor

    @staticmethod
    def _from_jwt(token: str, oidc: OIDC, jwks: jwt.PyJWKClient) -> Actor:
        try:
            key = jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError:
            raise Problem(
                503,
                "identity-provider",
                "Identity provider unreachable",
                "the identity provider's keys cannot be fetched now; try again",
                headers={"Retry-After": "5"},
            ) from None
        except (jwt.PyJWTError, jwt.PyJWKClientError) as e:
            raise unauthenticated(f"the token is not accepted: {e}") from None
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[a for a in ALGORITHMS if a == key.algorithm_name],
                audience=oidc.audience,
                issuer=oidc.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as e:
            raise unauthenticated(f"the token is not accepted: {e}") from None
        return Actor.with_grants(oidc.actor_id(claims), _grants(claims))


def _grants(claims: Mapping[str, Any]) -> list[Grant]:
    listed = claims.get(GRANTS_CLAIM, [])
    if not isinstance(listed, list) or not all(isinstance(g, str) for g in listed):
        raise unauthenticated(f"the token's {GRANTS_CLAIM} claim is not a list of strings")
    try:
        return [parse_grant(g) for g in listed]
    except (ValueError, KeyError) as e:
        raise unauthenticated(f"the token's {GRANTS_CLAIM} claim is not valid: {e}") from None


bearer = HTTPBearer(auto_error=False, description="an API key (bwl_...) or an OIDC token")


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def token_of(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return None if credentials is None else credentials.credentials


def authenticator_of(request: Request) -> Authenticator:
    """The authenticator of the application that ``request`` came to."""
    return cast(Authenticator, request.app.state.authenticator)


def caller(request: Request, credentials: Credentials) -> Actor:
    return authenticator_of(request).actor(token_of(credentials))


Caller = Annotated[Actor, Depends(caller)]


def may_verify(actor: Actor) -> None:
    """The ledger's own material (stateless bundles, reconstructions of the records within
    one's grants) for those who may verify somewhere."""
    if not any(
        may(actor, Command.VERIFY_LEDGER, grant.municipality, grant.controller)
        for grant in actor.grants
    ):
        raise Problem(403, "forbidden", "Not allowed", f"{actor.id} may not verify the ledger")


def sees_every_state(actor: Actor) -> bool:
    """States of every municipality's events at once: a grant on the whole deployment."""
    return may(actor, Command.READ_LEDGER_STATES, DEPLOYMENT, None)
