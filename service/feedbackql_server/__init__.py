"""The FeedbackQL server: an async GraphQL service for human feedback on LLM data.

The Python SDK is a separate distribution, imported as ``feedbackql``; this package never
imports it except in the command line's client-side commands (import/export over HTTP).
"""

__version__ = "0.1.0"
