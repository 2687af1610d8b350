"""Secret shapes in free text: what is found and replaced in every recorded string.

Found wherever they occur (reasons, exception messages, evidence strings, step names...):

- PEM and PGP private-key blocks (``-----BEGIN ... PRIVATE KEY[ BLOCK]-----`` to its END,
  or to the end of the text when the END was cut off);
- JWTs, and well-known API key prefixes (OpenAI, Stripe, GitHub, AWS, Slack, Google,
  GitLab, npm);
- credentials after an auth scheme (``Bearer``, ``Basic``, ``Digest``, ``Token``);
- URL passwords (``scheme://user:PASSWORD@host``, also with an empty user, an ``@`` or a
  ``/`` in the password: everything up to the last ``@`` of the URL is hidden);
- pairs named by a secret key (:mod:`._secret_keys`): ``key=value``, ``"key": value``,
  ``Key: value`` and ``key value`` (``password hunter2-x``, ``api key is x9...``);
- payment card numbers: 13-19 digits (spaces or dashes between groups allowed) that start
  like a card (2-6) and pass the Luhn check.

Only the secret is replaced; what names it (``password=``, ``Bearer ``, the URL up to
``user:``) is kept, so a reader sees what was hidden, never any part of it.

Every pattern starts at a literal or a word boundary, and no two quantifiers can trade the
same characters, so a scan of hostile text stays linear. A cheap prefilter (literals every
shape contains) skips the scan for the common clean string.
"""

from __future__ import annotations

import re

from ._secret_keys import KeyMatcher
from .vocabulary import REDACTED

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up cost)
if TYPE_CHECKING:
    from typing import Any, Callable

__all__ = ["TextScrubber"]

_PRIVATE_KEY = (r"-----BEGIN[A-Z ]*PRIVATE KEY[A-Z ]*-----[\s\S]*?"
                r"(?:-----END[A-Z ]*PRIVATE KEY[A-Z ]*-----|\Z)")
# JWT: header.payload.signature, base64url; the header starts with '{"' -> eyJ.
_JWT = r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"
_PREFIXED = (r"\b(?:sk-(?:proj-|live-|test-)?[A-Za-z0-9_-]{16,}"
             r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}"
             r"|gh[pousr]_[A-Za-z0-9]{20,}"
             r"|github_pat_[A-Za-z0-9_]{20,}"
             r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
             r"|xox[abposr]-[A-Za-z0-9-]{10,}"
             r"|AIza[0-9A-Za-z_-]{30,}"
             r"|glpat-[A-Za-z0-9_-]{20,}"
             r"|npm_[A-Za-z0-9]{30,})")
# A credential after an auth scheme must look like one (a digit, or a capital after a small
# letter as base64 has) and hold a letter, so prose such as "Bearer token expired" or
# "Basic Authentication" stays readable. (Each lookahead runs character classes that cannot
# overlap, so hostile input cannot make the search backtrack quadratically.) A credential
# runs on through `=` (`Bearer api_key=s3cr3t`: the pair after the scheme goes too, else the
# scheme's match would take its key and leave its value in clear); `=` is in none of the
# other classes, so the repeated part cannot trade characters with them.
_TOKEN_REST = r"(?:=+[A-Za-z0-9._~+/-]+)*=*"
_CREDENTIAL = (r"(?=[0-9._~+/-]*[A-Za-z])"  # not a number or date: "Token 2024-01-02"
               r"(?=[A-Za-z._~+/-]*[0-9]|[A-Z0-9._~+/-]*[a-z][a-z0-9._~+/-]*[A-Z])"
               rf"[A-Za-z0-9._~+/-]{{8,}}{_TOKEN_REST}")
_SCHEME_WORD = r"(?i:bearer|basic|digest|token)[ \t]+"
_ANY_CREDENTIAL = rf"[A-Za-z0-9._~+/-]{{4,}}{_TOKEN_REST}"
_SCHEME = rf"(?P<scheme>\b{_SCHEME_WORD}){_CREDENTIAL}"


def _scheme_pattern(keys: str) -> str:
    """:data:`_SCHEME`, where a credential that holds a secret key's name also takes the
    value after it (`Basic secretKey: xyz12345`, `Token myPassword xyz12345`): the scheme
    matches first and would leave the pair's value in clear. A real credential that holds
    a key's letters by chance costs the word after it, never a secret."""
    keyed = rf"(?=[A-Za-z0-9._~+/-]*?(?i:{keys})){_CREDENTIAL}(?:[ \t]*:?[ \t]*[^\s,;]+)?"
    return rf"(?P<scheme>\b{_SCHEME_WORD})(?:{keyed}|{_CREDENTIAL})"
# The password runs to the URL's last `@` (passwords hold `@` and `/`), at most 256
# characters on: the bound keeps a scan of many `x://a:` without any `@` linear.
_URL = (r"(?P<url>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)"
        r"\S{1,256}(?=@)")
# Payment card: checked further (prefix, Luhn, one kind of separator) in `_card`.
_CARD = r"(?<![0-9A-Za-z.,-])(?P<card>[2-6][0-9](?:[ -]?[0-9]){11,17})(?![0-9A-Za-z]|[.,-][0-9])"
_WORD = "[A-Za-z0-9_.-]"
# An unquoted `key: value` or `key value` is often prose ("token: expired", "password
# reset"), so its value is taken for a secret only if it has a digit or symbol, or is a
# long run of letters.
_PROSE_SAFE_VALUE = (r"(?=[A-Za-z.]*[0-9+/_~=@#$%^*!?-]|[A-Za-z]{12})"
                     r"[^\s,;&'\"}\])]{4,}")
# With only a space between, the weakest sign: a number or date ("token 2024-01-02",
# "password 3 times") is prose, as is a path ("auth orders/submit"): a secret has a letter
# and a digit; nor is an e-mail address
# ("auth bob@example.com"), a version ("token v2.1") or the name of the next pair
# ("secret api_key: x"); and it has six characters or more.
_SPACED_VALUE = (rf"(?=[^\s,;&'\"}}\])]*[A-Za-z])(?=[^\s,;&'\"}}\])]*[0-9])"
                 r"(?![A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+(?![^\s,;]))"
                 r"(?![A-Za-z0-9_.-]*[:=])"
                 r"(?![vV]?[0-9]+(?:\.[0-9]+)+(?![^\s,;]))(?=[^\s,;&'\"}\])]{6})"
                 rf"{_PROSE_SAFE_VALUE}")
# A second secret-looking token goes too: in `secret api_key x9f...` the first "value" is
# another name.
_SPACED_VALUES = rf"{_SPACED_VALUE}(?:[ \t]+{_SPACED_VALUE})?"
# `api key_id`; not `token 12` in `token 12:00`, nor a value with a digit (`api_key Z9q2 =0`:
# the second word is the secret, not part of the name)
_NAME_WORD = r"(?:[ ][A-Za-z][A-Za-z_.-]*(?![0-9]))?"
_PROSE_WORD = r"(?:[ ][A-Za-z]+(?![A-Za-z0-9_.-]))?"  # `api key`, `password reset`
_IS = r"(?:(?i:is|was)[ \t]+)?"  # `the api key is x9...`
_LITERALS = ("bearer", "basic", "digest", "token", "eyj", "://", "-----begin", "sk-", "sk_",
             "rk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "akia", "asia",
             "xox", "aiza", "glpat-", "npm_")
# Twelve digits as a card starts (after its first digit): every card number holds this,
# dates and times do not.
_CARD_REST = r"[0-9]{3}[ -]?[0-9]{4}[ -]?[0-9]{4}"


def _pair_patterns(keys: str) -> list[str]:
    """``key=value`` / ``"key": value`` / ``Key: t0ken`` / ``key t0ken`` for ``keys``."""

    def name(n: int, more: str = _NAME_WORD) -> str:
        # A whole word that contains a key: the first lookahead finds the key, the second
        # takes the word atomically (a backreference to a lookahead), so a long word full
        # of keys ("tokentoken...") costs linear time, not quadratic backtracking.
        # `more` lets one more word follow (`api key_id=x`, `password is x`).
        return (f"(?<!{_WORD})(?=[A-Za-z0-9_.-]*?(?i:{keys}))"
                f"(?=(?P<w{n}>{_WORD}*{more}))(?P=w{n})")

    scheme = f"(?:{_SCHEME_WORD})?"  # `Authorization=Bearer x`: the credential goes too
    return [
        # key=value, key = "value"
        rf"(?P<kv>{name(1)}[ \t]*=[ \t]*)(?:\"[^\"]*\"|'[^']*'|{scheme}[^\s,;&]+)",
        # 'key': value  /  "key": "value"   (dict reprs, JSON)
        rf"(?P<qk>(?P<q>[\"']){name(2)}(?P=q)[ \t]*:[ \t]*)"
        rf"(?:\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|{scheme}[^\s,}}\]]+)",
        # Header: value (unquoted). After a secret key *and* an auth scheme
        # (`Authorization: Bearer x`) whatever follows is the credential, whatever it looks like.
        # `token https://...` is a word and a URL (whose password `_URL` finds), not a pair.
        rf"(?P<hk>{name(3)}:(?!//)[ \t]*)(?:{_SCHEME_WORD}{_ANY_CREDENTIAL}|{_PROSE_SAFE_VALUE})",
        # key value, key word value: `password hunter2-x`, `api key is x9f...`. A name of
        # two words (the second a plain word) is tried first: an atomic name cannot give
        # its second word back, so the one-word name is a second pattern.
        rf"(?P<sp>{name(4, _PROSE_WORD)}[ \t]+{_IS}){_SPACED_VALUES}",
        rf"(?P<sp1>{name(5, '')}[ \t]+{_IS}){_SPACED_VALUES}",
    ]


def _prefilter(keys: KeyMatcher) -> re.Pattern[str]:
    """A cheap first test, run on lowercased text: what every secret shape contains.

    Alternatives grouped by a literal first character, which makes ``re`` several times
    faster than a flat alternation (this runs on every recorded string).
    """
    groups: dict[str, set[str]] = {}
    for lit in (*_LITERALS, *keys.literals()):
        groups.setdefault(lit[0], set()).add(re.escape(lit[1:]))
    for first in "23456":
        groups.setdefault(first, set()).add(_CARD_REST)
    alts = []
    for first, rests in sorted(groups.items()):
        rest = "|".join(sorted(rests, key=len, reverse=True))
        alts.append(f"{re.escape(first)}(?:{rest})")
    return re.compile("|".join(alts))


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(text: str) -> bool:
    """A payment card number: 13-19 digits, one kind of separator, Luhn-valid."""
    digits = text.replace(" ", "").replace("-", "")
    if " " in text and "-" in text:
        return False
    return 13 <= len(digits) <= 19 and _luhn(digits)


_KEEP = ("kv", "qk", "hk", "sp", "sp1", "scheme", "url")


class TextScrubber:
    """Finds and replaces secret shapes in text. Thread-safe."""

    def __init__(self, keys: KeyMatcher) -> None:
        self._keys = keys
        # Compiled on the first text the prefilter lets through, not here: it is most of
        # what starting a session costs (ms), and most runs never record such a text.
        self._shapes_sub: Callable[..., str] | None = None
        self._prefilter_search = _prefilter(keys).search

    def _shapes(self) -> Callable[..., str]:
        """``sub`` of the one pattern of every secret shape (compiled once; two threads
        racing both compile the same pattern, and either result serves)."""
        sub = self._shapes_sub
        if sub is None:
            keys = self._keys.text_regex() if self._keys else None
            scheme = _SCHEME if keys is None else _scheme_pattern(keys)
            shapes = [_PRIVATE_KEY, _JWT, _PREFIXED, scheme, _URL, _CARD]
            if keys is not None:
                shapes += _pair_patterns(keys)
            sub = self._shapes_sub = re.compile("|".join(f"(?:{s})" for s in shapes)).sub
        return sub

    def might_contain(self, s: str) -> bool:
        """False when ``s`` surely holds no secret shape (a cheap test; True may be wrong)."""
        return len(s) >= 6 and self._prefilter_search(s.lower()) is not None

    def scrub(self, s: str) -> tuple[str, int]:
        """``s`` with every secret shape replaced, and how many were."""
        if len(s) < 6 or self._prefilter_search(s.lower()) is None:
            return s, 0
        hits = 0

        def replace(m: re.Match[str]) -> str:
            nonlocal hits
            d: dict[str, Any] = m.groupdict()
            card = d.get("card")
            if card is not None and not _card(card):
                return m.group()
            hits += 1
            keep = next((d[k] for k in _KEEP if d.get(k)), "")
            return str(keep) + REDACTED

        return self._shapes()(replace, s), hits
