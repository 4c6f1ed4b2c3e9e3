"""The secret values a run knows, and one function that masks them in any text.

Deploy output, driver messages and git errors can quote a secret: the log, the JSON outputs and
the records on the state branch all pass through ``Masker.mask``. A run knows its forge token,
the values its drivers read from the environment (a webhook secret, ``${VAR}`` headers), and
every environment variable whose name says it is a secret (``*_TOKEN``, ``*SECRET*``,
``*PASSWORD*``, ...): CI passes secrets to jobs that way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

MASK = "***"
MIN_LENGTH = 4  # shorter values would mask ordinary words
MIN_GUESSED = 8  # a value taken because of its variable's name: real secrets are longer
_SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL"
    r"|(?:^|_)KEY$",
    re.IGNORECASE,
)


def looks_secret(name: str) -> bool:
    """An environment variable whose name says it holds a secret."""
    return bool(_SECRET_NAME.search(name))


class Masker:
    """Known secret values; ``mask`` replaces each with ``***`` (longest first, so a secret
    that contains another is masked whole)."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        if value and len(value) >= MIN_LENGTH:
            self._values.add(value)
            for line in value.splitlines():  # a multi-line secret (a key) line by line too
                if len(line.strip()) >= 8:
                    self._values.add(line.strip())

    @property
    def values(self) -> list[str]:
        return sorted(self._values, key=len, reverse=True)

    def mask(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, MASK)
        return text

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], extra: Iterable[str] = ()) -> Masker:
        masker = cls(extra)
        for name, value in environ.items():
            if looks_secret(name) and len(value) >= MIN_GUESSED:
                masker.add(value)
        return masker
