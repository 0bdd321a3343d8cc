"""Hide credentials in error text before a model, the state or an event stream sees it.

>>> redact("GET https://bob:hunter2@wiki.example/w/api.php?srsearch=x&token=abc failed")
'GET https://***@wiki.example/w/api.php?srsearch=x&token=*** failed'

Errors often quote the URL they failed on; a URL configured with ``user:pass@`` or an API
key in its query (``LLMCOMPILER_SEARCH_URL`` for instance) would then reach the joiner's
prompt, the checkpointed conversation and the streamed task events. :func:`redact`
replaces, in every URL of a text, the user-info part and the values of query (or
fragment) parameters whose names look secret, plus ``Bearer``/``Basic`` credentials.
Other parameters stay, so the error still says what failed.
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit, urlunsplit

__all__ = ["MASK", "SECRET_PARAMETER", "redact", "redact_url"]

MASK = "***"

SECRET_PARAMETER = re.compile(
    r"token|key|secret|pass|pwd|auth|sig|credential|session|cookie|code|jwt|bearer",
    re.IGNORECASE,
)
"""Query parameter names whose values are hidden (matched anywhere in the name)."""

_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`]+")
_USERINFO = re.compile(r"(?<=://)[^/?#@\s]+@")
_SCHEME_CREDENTIALS = re.compile(r"\b(Bearer|Basic|Token)\s+[A-Za-z0-9._~+/=-]{8,}", re.IGNORECASE)


def redact(text: str) -> str:
    """Return ``text`` with credentials in its URLs and auth headers replaced by ``***``."""
    text = _URL.sub(lambda match: redact_url(match.group(0)), text)
    return _SCHEME_CREDENTIALS.sub(lambda match: f"{match.group(1)} {MASK}", text)


def redact_url(url: str) -> str:
    """Return ``url`` without its user info and with secret-looking parameter values hidden."""
    try:
        parts = urlsplit(url)
        host = parts.netloc.rpartition("@")
        netloc = f"{MASK}@{host[2]}" if host[1] else parts.netloc
        cleaned = SplitResult(
            parts.scheme, netloc, parts.path, _params(parts.query), _params(parts.fragment)
        )
        return urlunsplit(cleaned)
    except ValueError:  # not a URL urllib can split: hide anything before an "@"
        return _USERINFO.sub(f"{MASK}@", url)


def _params(text: str) -> str:
    if "=" not in text:
        return text
    pieces = []
    for piece in text.split("&"):
        name, equals, _ = piece.partition("=")
        pieces.append(f"{name}={MASK}" if equals and SECRET_PARAMETER.search(name) else piece)
    return "&".join(pieces)
