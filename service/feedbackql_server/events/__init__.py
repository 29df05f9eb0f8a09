"""Response events for live updates: a small broker interface with two implementations.

In-process fan-out is the default; with several service replicas on MongoDB, events must
come from the database itself, so a change-stream broker is chosen when the server has
change streams (detected at start-up; FerretDB and standalone MongoDB have none).
"""

from feedbackql_server.events.broker import (
    Broker,
    EventsMissed,
    InProcessBroker,
    ResponseEvent,
    Subscription,
    SubscriptionEnded,
)
from feedbackql_server.events.change_stream import ChangeStreamBroker, open_broker

__all__ = ["Broker", "ChangeStreamBroker", "EventsMissed", "InProcessBroker", "ResponseEvent", "Subscription",
           "SubscriptionEnded", "open_broker"]
