"""Counting a client's reads of the records collection (what a search or a page costs the database)."""

from __future__ import annotations

from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent


class RecordReads(CommandListener):
    """``find`` commands on ``records``: each a lookup by ``_id``, a bucket's read or a query."""

    def __init__(self) -> None:
        self.count = 0

    def started(self, event: CommandStartedEvent) -> None:
        self.count += event.command_name == "find" and event.command.get("find") == "records"

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass
