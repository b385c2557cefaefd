"""Access control: users with roles, argon2 passwords, API tokens, UI sessions with CSRF.

Roles, highest first: admin (users and tokens, and everything below), campaign_manager (create,
edit, activate, close, reactivate, delete, preview and re-send campaigns; run jobs), viewer
(read everything). The HTTP edge's part (who is calling, route guards, cookies) is `herald.http.auth`.
"""

from __future__ import annotations

from herald.errors import AuthenticationError, PermissionDeniedError
from herald.services.auth.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, csrf_token, login, logout
from herald.services.auth.tokens import ApiToken, IssuedToken, issue_token, list_tokens, revoke_token
from herald.services.auth.users import (
    SYSTEM,
    Actor,
    Role,
    User,
    create_user,
    get_user,
    list_users,
    set_password,
    update_user,
)

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SYSTEM",
    "Actor",
    "ApiToken",
    "AuthenticationError",
    "IssuedToken",
    "PermissionDeniedError",
    "Role",
    "Session",
    "User",
    "create_user",
    "csrf_token",
    "get_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "revoke_token",
    "set_password",
    "update_user",
]
