"""The one password masker: everything shown to a person or written to a log goes through here.

* :func:`redact_url` masks the password of one database URL (``user:***@host``, ``password=***``);
* :func:`scrub` masks every ``user:password@`` in a free text (an error message, a log line, a
  notification), plus the known secrets of this process (the ``DATABASE_URL`` password,
  ``SMTP_PASSWORD``) and any URL or secret the caller names.

Plain string work, no URL parser: a URL malformed enough to be refused (and quoted in the refusal)
must be masked too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

MASK = "***"
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@")
_SECRET_VARIABLES = ("SMTP_PASSWORD",)
_URL_VARIABLES = ("DATABASE_URL",)


def redact_url(url: str) -> str:
    """Return ``url`` with any password replaced by ``***`` (safe to print or log).

    The password is what sits between ``user:`` and the last ``@`` before the path, and any
    ``password=`` query parameter (libpq takes both).
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    authority, slash, tail = rest.partition("/")
    if "@" in authority:
        userinfo, _, host = authority.rpartition("@")
        user, colon, _ = userinfo.partition(":")
        if colon:
            authority = f"{user}:{MASK}@{host}"
    path, question, query = tail.partition("?")
    if question:
        query = "&".join(
            f"password={MASK}" if item.partition("=")[0].lower() == "password" else item for item in query.split("&")
        )
    return f"{scheme}{sep}{authority}{slash}{path}{question}{query}"


def url_password(url: str) -> str:
    """The password inside ``url`` (``user:PASSWORD@host`` or ``password=`` in the query), or ``""``."""
    _, sep, rest = url.partition("://")
    if not sep:
        return ""
    authority, _, tail = rest.partition("/")
    if "@" in authority:
        password = authority.rpartition("@")[0].partition(":")[2]
        if password:
            return password
    for item in tail.partition("?")[2].split("&"):
        key, _, value = item.partition("=")
        if key.lower() == "password" and value:
            return value
    return ""


def scrub(
    text: str,
    *,
    urls: Iterable[str | None] = (),
    secrets: Iterable[str | None] = (),
    env: Mapping[str, str] | None = None,
) -> str:
    """Mask every URL password in ``text``, the process's known secrets, and the given ``urls``/``secrets``."""
    environ = os.environ if env is None else env
    text = _URL_PASSWORD.sub(rf"\g<scheme>:{MASK}@", text)
    known = [*secrets, *(environ.get(name) for name in _SECRET_VARIABLES)]
    known += [url_password(url) for url in (*urls, *(environ.get(name) for name in _URL_VARIABLES)) if url]
    for secret in sorted({s for s in known if s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text
