"""Access control: users with roles, argon2 passwords, API tokens, UI sessions with CSRF, route guards.

Roles, highest first: admin (users and tokens, and everything below), campaign_manager (create,
edit, activate, close, reactivate, delete, preview and re-send campaigns; run jobs), viewer
(read everything). The UI uses `login`, `logout`, `current_user`, `current_session`,
`csrf_token`, `check_csrf` and the cookie helpers; REST routes declare `require(role)`.
"""

from __future__ import annotations

from herald.auth.sessions import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE, Session, csrf_token, login, logout
from herald.auth.tokens import ApiToken, IssuedToken, issue_token, list_tokens, revoke_token
from herald.auth.users import (
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
from herald.auth.web import (
    Admin,
    CampaignManager,
    Viewer,
    check_csrf,
    clear_session_cookie,
    current_session,
    current_user,
    require,
    served_over_https,
    set_session_cookie,
)
from herald.errors import AuthenticationError, PermissionDeniedError

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SYSTEM",
    "Actor",
    "Admin",
    "ApiToken",
    "AuthenticationError",
    "CampaignManager",
    "IssuedToken",
    "PermissionDeniedError",
    "Role",
    "Session",
    "User",
    "Viewer",
    "check_csrf",
    "clear_session_cookie",
    "create_user",
    "csrf_token",
    "current_session",
    "current_user",
    "get_user",
    "issue_token",
    "list_tokens",
    "list_users",
    "login",
    "logout",
    "require",
    "revoke_token",
    "served_over_https",
    "set_password",
    "set_session_cookie",
    "update_user",
]
