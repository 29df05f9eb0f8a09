"""FeedbackQL: human feedback on LLM data as an async GraphQL service with plugin kinds.

``import feedbackql as fb`` gives the Python SDK: ``fb.Client``, ``fb.FeedbackDataset``,
``fb.TextField``, ``fb.RatingQuestion`` ... The service itself lives in the subpackages.
"""

from feedbackql.client import AsyncClient, Client, CreatedUser, User, Workspace
from feedbackql.config import (
    ChatField,
    Field,
    LabelQuestion,
    MetadataProperty,
    MultiLabelQuestion,
    Question,
    RankingQuestion,
    RatingQuestion,
    SpanQuestion,
    TextField,
    TextQuestion,
)
from feedbackql.dataset import FeedbackDataset, to_datasets
from feedbackql.errors import (
    AuthenticationError,
    ConflictError,
    ConnectionFailed,
    FeedbackQLError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from feedbackql.records import AddRecordsReport, RecordError, RemoteRecord, Response, Suggestion
from feedbackql.records import Record as Record

__version__ = "0.1.0"

__all__ = [
    "AddRecordsReport", "AsyncClient", "AuthenticationError", "ChatField", "Client", "ConflictError",
    "ConnectionFailed", "CreatedUser", "FeedbackDataset", "FeedbackQLError", "Field", "ForbiddenError",
    "LabelQuestion", "MetadataProperty", "MultiLabelQuestion", "NotFoundError", "Question",
    "RankingQuestion", "RateLimitedError", "RatingQuestion", "Record", "RecordError", "RemoteRecord",
    "Response", "ServerError", "SpanQuestion", "Suggestion", "TextField", "TextQuestion", "User", "ValidationError",
    "Workspace", "__version__", "to_datasets",
]
