"""The access log of `herald serve`: uvicorn's, one line a request, with every secret in a URL replaced by ***.

Two of herald's URLs carry a secret because their callers cannot sign: Fineract's hooks
(`/fineract/hooks/<secret>/`) and Infobip's pushes (`?secret=...`). Anything that writes a
request's URL to a log must pass it through `redact` first. A phone number can be in a URL too
(`DELETE /api/v1/optouts/+2547...`, a search typed into a query): the URL is decoded, numbers are
masked as everywhere else, and any run of nine or more digits left is logged as *** (herald's ids stay far shorter).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

from herald.domain.redact import redact_phones

HIDDEN = "***"
_HOOK_PATH = re.compile(r"(/fineract/hooks)/[^?#]*")  # everything after it is the secret (and Fineract's "/")
# Query parameters that hold a credential, whatever the caller: Infobip's secret and the usual names.
_SECRET_PARAM = re.compile(
    r"(?i)(?<=[?&;])((?:secret|token|api_?key|key|password|passwd|signature|sig|access_token)=)[^&;#]*"
)

# A phone number, E.164 or national, written plainly, URL-encoded (%2B) or with a + a query decodes to a space.
_NUMBER = re.compile(r"(?:\+|%2[bB])?\d{9,}")


def redact(target: str) -> str:
    """A request path (with its query) with the hook secret, credential parameters and phone numbers replaced by ***."""
    hidden = _SECRET_PARAM.sub(rf"\g<1>{HIDDEN}", _HOOK_PATH.sub(rf"\g<1>/{HIDDEN}/", target))
    # A form's query writes a space as "+" ("0712 345 678" arrives as 0712+345+678): decoded as the
    # server reads it, so the number is seen whole; in the path a "+" is itself (+254... in a DELETE).
    path, mark, query = hidden.partition("?")
    decoded = unquote(path) + mark + unquote_plus(query)
    return _NUMBER.sub(HIDDEN, redact_phones(decoded) or "")  # masked numbers with separators, then digit runs left


class RedactSecrets(logging.Filter):
    """For uvicorn's access logger, whose record args are (client, method, path?query, http version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact(args[2]), *args[3:])
        return True


def enable(logger: logging.Logger | None = None) -> None:
    """Turn uvicorn's access log on (one INFO line a request) with secrets redacted; call after uvicorn's Config."""
    access = logger or logging.getLogger("uvicorn.access")
    access.setLevel(logging.INFO)
    if not any(isinstance(f, RedactSecrets) for f in access.filters):
        access.addFilter(RedactSecrets())
