"""REST: users and API tokens (admin only), and who the caller is. A token is in exactly one answer: its creation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from herald.app import Herald
from herald.domain import wire
from herald.http.auth import Admin, Viewer
from herald.services import auth
from herald.services.auth import ApiToken, Role, User


def _storable(value: str) -> str:
    """Text PostgreSQL can hold (no NUL, no lone surrogate): refused here as a 422, not failed on as a 500."""
    if problem := wire.text_problem(value):
        raise ValueError(f"the text {problem}")
    return value


Storable = AfterValidator(_storable)
Username = Annotated[str, Path(min_length=1, max_length=100), Storable]


class UserOut(BaseModel):
    username: str
    role: Role
    active: bool
    createdAt: datetime

    @classmethod
    def of(cls, u: User) -> UserOut:
        return cls(username=u.username, role=u.role, active=u.active, createdAt=u.created_at)


class UserIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=100)
    role: Role
    password: str = Field(min_length=auth.users.MIN_PASSWORD, max_length=auth.users.MAX_PASSWORD, repr=False)


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    active: bool | None = Field(
        None, description="false disables the user: sessions end, tokens are revoked (enabling restores neither)."
    )


class PasswordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=auth.users.MIN_PASSWORD, max_length=auth.users.MAX_PASSWORD, repr=False)


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: Annotated[str, Storable] = Field(
        min_length=1, max_length=100, description="Whose token: it acts with that user's role."
    )
    name: Annotated[str, Storable] = Field(
        min_length=1, max_length=100, description="What uses it, e.g. 'nightly export script'."
    )


class TokenOut(BaseModel):
    id: int
    name: str
    username: str
    createdAt: datetime
    lastUsedAt: datetime | None

    @classmethod
    def of(cls, t: ApiToken) -> TokenOut:
        return cls(id=t.id, name=t.name, username=t.username, createdAt=t.created_at, lastUsedAt=t.last_used_at)


class IssuedTokenOut(TokenOut):
    token: str = Field(description="Shown this once; herald keeps only its hash. Send it as `Authorization: Bearer`.")


def by(user: User) -> auth.Actor:
    return auth.Actor(user.username, "api")


def router(herald: Herald) -> APIRouter:
    api = APIRouter(tags=["users"])

    @api.get("/me", summary="The calling user")
    def me(user: Viewer) -> UserOut:
        return UserOut.of(user)

    @api.get("/users", summary="Every user")
    def list_users(user: Admin) -> list[UserOut]:
        return [UserOut.of(u) for u in auth.list_users(store=herald.store)]

    @api.post("/users", status_code=201, summary="Create a user (password hashed with argon2id)")
    def create_user(user: Admin, body: UserIn) -> UserOut:
        return UserOut.of(
            auth.create_user(
                body.username, body.role, body.password, by=by(user), store=herald.store, clock=herald.clock
            )
        )

    @api.get("/users/{username}", summary="One user")
    def get_user(user: Admin, username: Username) -> UserOut:
        return UserOut.of(auth.get_user(username, store=herald.store))

    @api.patch(
        "/users/{username}",
        summary="Change a user's role, disable or enable it (disabling revokes its API tokens for good)",
    )
    def change_user(user: Admin, username: Username, body: UserChange) -> UserOut:
        return UserOut.of(
            auth.update_user(
                username, role=body.role, active=body.active, by=by(user), store=herald.store, clock=herald.clock
            )
        )

    @api.put(
        "/users/{username}/password",
        status_code=204,
        summary="Set a new password for a user; every session of that user ends (its API tokens stay)",
    )
    def set_password(user: Admin, username: Username, body: PasswordIn) -> Response:
        auth.set_password(username, body.password, by=by(user), store=herald.store, clock=herald.clock)
        return Response(status_code=204)

    @api.get("/tokens", summary="Every API token (never the tokens themselves)")
    def list_tokens(user: Admin) -> list[TokenOut]:
        return [TokenOut.of(t) for t in auth.list_tokens(store=herald.store)]

    @api.post("/tokens", status_code=201, summary="Create an API token; the answer is the only time it is shown")
    def create_token(user: Admin, body: TokenIn) -> IssuedTokenOut:
        issued = auth.issue_token(body.username, body.name, by=by(user), store=herald.store, clock=herald.clock)
        return IssuedTokenOut(token=issued.token, **TokenOut.of(issued.info).model_dump())

    @api.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
    def revoke_token(user: Admin, token_id: Annotated[int, Path(ge=1, le=2**53)]) -> Response:
        auth.revoke_token(token_id, by=by(user), store=herald.store, clock=herald.clock)
        return Response(status_code=204)

    return api
