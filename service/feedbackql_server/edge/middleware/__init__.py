"""Middleware in front of every route: body limits, rate limits, the request deadline,
idempotent retries, database outages, slow clients and GraphQL-over-HTTP status codes. The
order they run in is set in ``app.create_app``."""
