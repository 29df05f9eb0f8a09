"""FeedbackQL: human feedback on LLM data as an async GraphQL service with plugin kinds.

``import feedbackql as fb`` gives the Python SDK: ``fb.Client``, ``fb.FeedbackDataset``,
``fb.TextField``, ``fb.RatingQuestion`` ... The service is the separate ``feedbackql_server``
package; this one installs and runs without it.
"""

from feedbackql import errors
from feedbackql.client import AsyncClient, Client, CreatedUser, DatasetSummary, User, Workspace
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
    BadRequestError,
    ConflictError,
    ConnectionFailed,
    FeedbackQLError,
    ForbiddenError,
    GraphQLValidationError,
    IdempotencyKeyInProgressError,
    IdempotencyKeyReusedError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    PluginError,
    PluginUnavailableError,
    QueryTooCostlyError,
    RateLimitedError,
    ServerError,
    ServiceTimeoutError,
    UnavailableError,
    ValidationError,
)
from feedbackql.frames import records_from_datasets, records_from_pandas, records_from_rows, to_pandas
from feedbackql.records import AddRecordsReport, RecordError, RemoteRecord, Response, Suggestion
from feedbackql.records import Record as Record
from feedbackql.results import Agreement, DownloadedFile, Progress, SubmittedResponse, UnifiedAnswer

__version__ = "0.1.0"

__all__ = [
    "AddRecordsReport",
    "Agreement",
    "AsyncClient",
    "AuthenticationError",
    "BadRequestError",
    "ChatField",
    "Client",
    "ConflictError",
    "ConnectionFailed",
    "CreatedUser",
    "DatasetSummary",
    "DownloadedFile",
    "FeedbackDataset",
    "FeedbackQLError",
    "Field",
    "ForbiddenError",
    "GraphQLValidationError",
    "IdempotencyKeyInProgressError",
    "IdempotencyKeyReusedError",
    "LabelQuestion",
    "MetadataProperty",
    "MethodNotAllowedError",
    "MultiLabelQuestion",
    "NotFoundError",
    "PayloadTooLargeError",
    "PluginError",
    "PluginUnavailableError",
    "Progress",
    "QueryTooCostlyError",
    "Question",
    "RankingQuestion",
    "RateLimitedError",
    "RatingQuestion",
    "Record",
    "RecordError",
    "RemoteRecord",
    "Response",
    "ServerError",
    "ServiceTimeoutError",
    "SpanQuestion",
    "SubmittedResponse",
    "Suggestion",
    "TextField",
    "TextQuestion",
    "UnavailableError",
    "UnifiedAnswer",
    "User",
    "ValidationError",
    "Workspace",
    "__version__",
    "errors",
    "records_from_datasets",
    "records_from_pandas",
    "records_from_rows",
    "to_datasets",
    "to_pandas",
]
