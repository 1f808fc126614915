"""The password policy: long enough, not a common password, not the username.

Pure Python (no Flask): the auth and admin forms turn the codes into messages beside the field.
Length beats composition rules (NIST SP 800-63B): ten characters and a deny-list of the passwords
people really pick, with no "one upper case letter and one symbol" rules that only produce
`Password1!`.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

__all__ = ["MIN_LENGTH", "WeakPassword", "check_password", "is_common", "weakness"]

MIN_LENGTH = 10  # characters: the station's policy (the demo password `pingan-demo` has 11)
MIN_USERNAME_IN_PASSWORD = 3  # shorter usernames match too much by chance to be refused on

_LIST = Path(__file__).with_name("common_passwords.txt")


class WeakPassword(ValueError):
    """A password the policy refuses; ``code`` is 'short', 'common' or 'username'."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The deny-list shipped beside this module, lower-cased, comments and blank lines skipped."""
    lines = _LIST.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str) -> bool:
    """True for a password on the list (any case) or one made of one or two characters repeated."""
    lowered = password.lower()
    return lowered in common_passwords() or len(set(lowered)) <= 2


def weakness(password: str | None, username: str | None = None) -> str | None:
    """The first rule `password` breaks ('short', 'common', 'username'), or None when it is fine."""
    password = password or ""
    if len(password) < MIN_LENGTH:
        return "short"
    if is_common(password):
        return "common"
    name = (username or "").strip().lower()
    if len(name) >= MIN_USERNAME_IN_PASSWORD and name in password.lower():
        return "username"
    return None


def check_password(password: str | None, username: str | None = None) -> None:
    """Raise WeakPassword when `password` breaks the policy."""
    code = weakness(password, username)
    if code is not None:
        raise WeakPassword(code)
