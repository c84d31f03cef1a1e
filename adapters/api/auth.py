"""Who is calling: an API key, or (when configured) an OIDC JWT from the municipality's
identity provider, checked against the provider's published keys."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import jwt

from adapters.api.keys import ApiKeys, parse_grant
from adapters.api.problems import Problem
from domain.authorization import Actor

GRANTS_CLAIM = "bewijslast_grants"  # a list of "ROLE:MUNICIPALITY[:CONTROLLER]"
ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"]


@dataclass(frozen=True)
class OIDC:
    issuer: str
    audience: str
    jwks_url: str

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
        return cls(*values)


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
        self.jwks = None if oidc is None else jwt.PyJWKClient(oidc.jwks_url, cache_keys=True)

    def actor(self, authorization: str | None) -> Actor:
        if not authorization or not authorization.startswith("Bearer "):
            raise unauthenticated("send 'Authorization: Bearer <API key or OIDC token>'")
        token = authorization.removeprefix("Bearer ").strip()
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
            claims = jwt.decode(
                token,
                key.key,
                algorithms=ALGORITHMS,
                audience=oidc.audience,
                issuer=oidc.issuer,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, jwt.PyJWKClientError) as e:
            raise unauthenticated(f"the token is not accepted: {e}") from None
        try:
            grants = [parse_grant(g) for g in claims.get(GRANTS_CLAIM, [])]
        except (ValueError, KeyError, AttributeError) as e:
            raise unauthenticated(f"the token's {GRANTS_CLAIM} claim is not valid: {e}") from None
        return Actor.with_grants(str(claims.get("email") or claims["sub"]), grants)
