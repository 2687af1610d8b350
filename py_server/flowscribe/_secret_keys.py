"""Which keys name a secret: the ``redact_keys`` matching rule.

The same rule decides for evidence keys, attribute and field names, the name of a
``(name, value)`` pair, and the ``key`` of ``key=value`` text (see ``_secret_text``):

- a key of four characters or more matches anywhere in a name, in any case, ignoring
  ``-``, ``_``, ``.`` and spaces: ``api_key`` catches ``X-API-Key`` and ``apiKey``,
  ``password`` catches ``db_password``;
- a shorter key (``pwd``, ``jwt``, ``sid``, ``cvv``) matches only a whole segment of a name
  (``mysql_pwd``, ``connect.sid``, ``dbPwd``): as a substring it would catch ordinary words
  (``sid`` in ``consider``, ``inside``);
- ``auth`` does not catch ``author``/``authors`` (it does catch ``authorization``, ``oauth``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["SHORT_KEY", "KeyMatcher", "norm_key"]

#: Keys this long or shorter match whole name segments only.
SHORT_KEY = 3
_SEPARATORS = re.compile(r"[-_. ]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
#: Lookaheads that keep a key off words it is part of but that name no secret.
_EXCEPT = {"auth": "(?!or(?!i[sz]))"}


def norm_key(key: str) -> str:
    """``X-API-Key`` -> ``xapikey``: lowercase, separators removed."""
    return _SEPARATORS.sub("", key.lower())


def _segments(key: str) -> set[str]:
    """``dbPwd_hash`` -> {``db``, ``pwd``, ``hash``}."""
    return {p for p in _SEPARATORS.split(_CAMEL.sub("_", key).lower()) if p}


class KeyMatcher:
    """Decides whether a name is secret, and spells the keys for text patterns."""

    def __init__(self, keys: Iterable[str]) -> None:
        parts: dict[str, tuple[str, ...]] = {}  # normalised key -> its words as written
        for key in keys:
            words = tuple(w for w in _SEPARATORS.split(key.lower()) if w)
            if words:
                parts.setdefault("".join(words), words)
        long = [k for k in parts if len(k) > SHORT_KEY]
        # A key that contains another adds nothing (`refresh_token` after `token`).
        self.long = tuple(k for k in long if not any(o != k and o in k for o in long))
        self.short = frozenset(k for k in parts if len(k) <= SHORT_KEY)
        self._parts = parts
        alts = [re.escape(k) + _EXCEPT.get(k, "") for k in self.long]
        self._long_search = re.compile("|".join(alts)).search if alts else None

    def __bool__(self) -> bool:
        return bool(self.long or self.short)

    def is_secret(self, name: str) -> bool:
        """True when a value under ``name`` is a secret."""
        if self._long_search is not None and self._long_search(norm_key(name)):
            return True
        return bool(self.short) and not self.short.isdisjoint(_segments(name))

    def text_regex(self) -> str:
        """An alternation matching the keys inside a word of text (use case-insensitively):
        ``api_key`` as ``api[-_. ]?key``, so ``X-API-Key`` and ``apikey`` match."""
        alts = [self._spelled(k) + _EXCEPT.get(k, "")
                for k in sorted(self.long, key=len, reverse=True)]
        # A short key stands alone or between separators: `mysql_pwd`, `pwd=`, not `pwdx`.
        alts += [f"(?<![A-Za-z0-9]){self._spelled(k)}(?![A-Za-z0-9])"
                 for k in sorted(self.short)]
        return "|".join(alts)

    def literals(self) -> list[str]:
        """Lowercase strings of which every key-named secret in text contains one."""
        out = list(self.short)
        for k in self.long:
            words = self._parts[k]
            out += [sep.join(words) for sep in ("", "-", "_", ".", " ")]
        return sorted(set(out))

    def _spelled(self, norm: str) -> str:
        return "[-_. ]?".join(re.escape(w) for w in self._parts[norm])
