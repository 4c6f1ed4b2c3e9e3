"""The one exception family for expected failures: the CLI prints them without a traceback."""


class GitopsError(Exception):
    """An expected failure with a message for people; the CLI exits with `exit_code`."""

    exit_code = 1


class UsageError(GitopsError):
    """Bad input from the user: wrong arguments, malformed files, unknown names."""

    exit_code = 2
