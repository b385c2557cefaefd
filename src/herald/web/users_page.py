"""The users page, for admins: every user with its role, creating one, disable / enable, and setting a new password.

Each change goes through the same functions as the CLI and the API, recorded in the audit log
as done by the admin via the UI. Setting a password ends that user's sessions; disabling also
revokes its API tokens (they are issued with `herald users token` or the API).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from starlette.datastructures import FormData

from herald.app import Herald
from herald.errors import ValidationError
from herald.services import auth
from herald.services.auth import Role, User
from herald.web.pages import NOTICES, Form, PageRoute, acting, allowed, render, see_other, text, viewer

Username = Annotated[str, Path(min_length=1, max_length=100)]


def by(user: User) -> auth.Actor:
    return auth.Actor(user.username, "ui")


NOTICES["user-created"] = "User created: it logs in with the password you gave; tell it to the user in person."


def _new_password(form: FormData) -> str:
    password = form.get("password")
    if not isinstance(password, str) or password != form.get("confirm"):
        raise ValidationError("The two passwords differ; type the same new password twice.", field="password")
    return password


def router(herald: Herald) -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/users")
    def users_page(request: Request) -> Response:
        allowed(viewer(request), Role.ADMIN)
        tokens: dict[str, int] = {}
        for token in auth.list_tokens(store=herald.store):
            tokens[token.username] = tokens.get(token.username, 0) + 1
        return render(request, "users.html", users=auth.list_users(store=herald.store), tokens=tokens, roles=Role)

    @pages.post("/users")
    def create(request: Request, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        password = _new_password(form)
        made = auth.create_user(
            text(form, "username"),
            Role.parse(text(form, "role")),
            password,
            by=by(admin),
            store=herald.store,
            clock=herald.clock,
        )
        return see_other(f"/users?notice=user-created#user-{made.username}")

    @pages.post("/users/{username}/password")
    def set_password(request: Request, username: Username, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        password = _new_password(form)
        auth.set_password(username, password, by=by(admin), store=herald.store, clock=herald.clock)
        return see_other("/users?notice=user-password")

    @pages.post("/users/{username}/role")
    def change_role(request: Request, username: Username, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        auth.update_user(
            username, role=Role.parse(text(form, "role")), by=by(admin), store=herald.store, clock=herald.clock
        )
        return see_other("/users?notice=user-role")

    @pages.post("/users/{username}/disable")
    def disable(request: Request, username: Username, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        auth.update_user(username, active=False, by=by(admin), store=herald.store, clock=herald.clock)
        return see_other("/users?notice=user-disabled")

    @pages.post("/users/{username}/enable")
    def enable(request: Request, username: Username, form: Form) -> Response:
        admin, _ = acting(request, Role.ADMIN, form)
        auth.update_user(username, active=True, by=by(admin), store=herald.store, clock=herald.clock)
        return see_other("/users?notice=user-enabled")

    return pages
