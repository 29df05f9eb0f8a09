"""Deprecated since 0.2: the plugin API is ``feedbackql_server.kinds`` (install
``feedbackql-server``). Names read here warn and come from there, until 0.4."""

from feedbackql import moved

__getattr__ = moved.forward(__name__)
