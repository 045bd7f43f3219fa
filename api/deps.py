"""Typed FastAPI dependencies: the acting user from the bearer token, and the registry runtime."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from domain.actors import Actor
from security.tokens import TokenError, TokenVerifier


def token_verifier(request: Request) -> TokenVerifier:
    verifier: TokenVerifier = request.app.state.token_verifier
    return verifier


def current_actor(
    request: Request, verifier: Annotated[TokenVerifier, Depends(token_verifier)]
) -> Actor:
    """The caller named by the bearer token; 401 with a clear message otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="a bearer token is required (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    try:
        return verifier.verify(token.strip())
    except TokenError as error:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=str(error),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from error


CurrentActor = Annotated[Actor, Depends(current_actor)]
