"""The ASGI edge: the GraphQL endpoint, the other routes (uploads, exports, the web UI, widgets)
and the middleware in front of them. Every route acts through the caller's ``Session``
(``domain/session.py``); nothing here touches storage (``tests/test_structure.py``)."""
