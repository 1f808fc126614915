"""Signed patrol-point codes: the token inside the QR and the short code printed under it.

A token is `<point id>.<signature>`, the signature an HMAC-SHA256 of the station and point ids with
the app's SECRET_KEY, truncated to 96 bits and base64url-encoded. The short code, for phones without
a QR reader, is `<point id>-<six digits>` from a second HMAC. Both prove that the code was read (the
officer cannot derive it from the page, which never carries it); both are checked on the server.
"""
import base64
import hashlib
import hmac
import re
import unicodedata
from urllib.parse import parse_qs, urlsplit

import segno
from flask import current_app

TOKEN_RE = re.compile(r"^(\d{1,9})\.([A-Za-z0-9_-]{16})$")
CODE_RE = re.compile(r"^(\d{1,9})-(\d{6})$")


def _mac(purpose: str, station_id: int, point_id: int) -> bytes:
    key = str(current_app.config["SECRET_KEY"]).encode()
    message = f"pingan-patrol:{purpose}:{station_id}:{point_id}".encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def point_token(station_id: int, point_id: int) -> str:
    """The signed token a point's QR code carries."""
    signature = base64.urlsafe_b64encode(_mac("qr", station_id, point_id)[:12]).decode().rstrip("=")
    return f"{point_id}.{signature}"


def short_code(station_id: int, point_id: int) -> str:
    """The short code printed under the QR: the point id and six digits (1 in a million to guess)."""
    digits = int.from_bytes(_mac("code", station_id, point_id)[:5], "big") % 1_000_000
    return f"{point_id}-{digits:06d}"


def qr_payload(check_in_url: str, token: str) -> str:
    """What the QR encodes: the check-in page with the token, so a camera app opens the form too."""
    return f"{check_in_url}?t={token}"


def normalize(value: str | None) -> str | None:
    """A scanned or typed value as a canonical token or short code, or None if it is neither.

    Accepts the QR's URL (its `t` parameter), the bare token, or the short code typed with
    full-width digits, spaces or a different dash, as phones' keyboards produce.
    """
    if not value:
        return None
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if "://" in text or text.startswith("/"):
        text = (parse_qs(urlsplit(text).query).get("t") or [""])[0].strip()
    if TOKEN_RE.match(text):
        return text
    compact = re.sub(r"\s+", "", text).replace("—", "-").replace("–", "-").replace("_", "-")
    if CODE_RE.match(compact):
        return compact
    if compact.isdigit() and len(compact) > 6:  # typed without the dash
        return f"{compact[:-6]}-{compact[-6:]}"
    return None


def verify(value: str, station_id: int) -> int | None:
    """The point id a canonical token or short code was issued for in this station, else None."""
    for pattern, make in ((TOKEN_RE, point_token), (CODE_RE, short_code)):
        match = pattern.match(value or "")
        if match:
            point_id = int(match.group(1))
            return point_id if hmac.compare_digest(make(station_id, point_id), value) else None
    return None


def qr_data_uri(payload: str) -> str:
    """An SVG QR code as a data: URI (the CSP allows data: images; no inline markup needed)."""
    # Error correction M: survives a scuffed or partly wet sticker on a lamp post.
    return segno.make_qr(payload, error="m").svg_data_uri(scale=4, border=2)
