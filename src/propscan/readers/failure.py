"""A source that could not be read, reported by the streaming readers instead of stopping them."""

from __future__ import annotations

from dataclasses import dataclass

from propscan.errors import PropscanError


@dataclass(frozen=True)
class ReadFailure:
    """An input (a file, a corpus line, a URL) and why it could not be read, in the user's terms."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"

    @classmethod
    def of(cls, source: str, error: PropscanError) -> ReadFailure:
        """The failure for ``error``, named by the error's own source when it has one."""
        message = str(error)
        if error.source and message.startswith(f"{error.source}: "):
            return cls(error.source, message[len(error.source) + 2:])
        return cls(source, message)

    @classmethod
    def within(cls, where: str, error: PropscanError) -> ReadFailure:
        """The failure of a part of a file (a corpus row) at ``where``, named there whatever the
        error's own source, which stays in the reason unless it is ``where`` again."""
        message = str(error)
        if message.startswith(f"{where}: "):
            message = message[len(where) + 2:]
        return cls(where, message)
