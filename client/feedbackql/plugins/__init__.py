"""Deprecated since 0.2: the built-in kinds are ``feedbackql_plugins`` (installed with
``feedbackql-server``). Names read here warn and come from there, until 0.4."""

from feedbackql import moved

__getattr__ = moved.forward(__name__)
