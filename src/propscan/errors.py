"""The one exception type for problems a user can fix (bad input, missing files, refused URLs).

The CLI and the web API catch it at their edges and turn it into one clear line or a JSON error;
anything else that escapes is a bug.
"""


class PropscanError(Exception):
    """A problem with the user's input or environment, described in the user's terms."""

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)
