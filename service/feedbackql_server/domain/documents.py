"""The stored documents' types, for the layers above the domain (which never import storage)."""

from feedbackql_server.storage.documents import (
    RESPONSE_STATUSES,
    DatasetDoc,
    DistributionDoc,
    KindItem,
    Lease,
    MetadataPropertyDoc,
    RecordDoc,
    ResponseDoc,
    ResponseStatus,
    StoredValue,
    SuggestionDoc,
    UserDoc,
    WorkspaceDoc,
)

__all__ = ["RESPONSE_STATUSES", "DatasetDoc", "DistributionDoc", "KindItem", "Lease", "MetadataPropertyDoc",
           "RecordDoc", "ResponseDoc", "ResponseStatus", "StoredValue", "SuggestionDoc", "UserDoc", "WorkspaceDoc"]
