"""The one error of the database layer."""


class DatabaseUnavailable(RuntimeError):
    """No database server can be had; the message says what to do."""
