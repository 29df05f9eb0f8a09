"""The Python SDK, re-exported as ``feedbackql``: ``import feedbackql as fb``."""
