"""FeedbackQL: human feedback on LLM data as an async GraphQL service with plugin kinds."""

__version__ = "0.1.0"
