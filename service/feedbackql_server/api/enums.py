"""GraphQL enums; their values are what the database stores."""

import enum

import strawberry

from feedbackql_server.domain.readd import OnConflict
from feedbackql_server.kinds.base import Agreement

__all__ = [
    "Agreement",
    "DatasetStatus",
    "MetadataPropertyKind",
    "OnConflict",
    "RecordSortField",
    "RecordStatus",
    "ResponseStatus",
    "Role",
    "SortDirection",
]


@strawberry.enum
class Role(enum.Enum):
    OWNER = "owner"
    ADMIN = "admin"
    ANNOTATOR = "annotator"


@strawberry.enum
class DatasetStatus(enum.Enum):
    DRAFT = "draft"
    READY = "ready"


@strawberry.enum
class RecordStatus(enum.Enum):
    PENDING = "pending"
    COMPLETED = "completed"


@strawberry.enum
class ResponseStatus(enum.Enum):
    SUBMITTED = "submitted"
    DRAFT = "draft"
    DISCARDED = "discarded"


@strawberry.enum
class MetadataPropertyKind(enum.Enum):
    TERMS = "terms"
    INTEGER = "integer"
    FLOAT = "float"


@strawberry.enum
class RecordSortField(enum.Enum):
    INSERTED_AT = "inserted_at"
    UPDATED_AT = "updated_at"
    METADATA = strawberry.enum_value("metadata", description=(
        "The value of the metadata property named by `name`; records without one first (ASC) or last (DESC)."))
    SUGGESTION_SCORE = strawberry.enum_value("suggestion_score", description=(
        "The score of the suggestion for the question named by `name`; records without one first (ASC) "
        "or last (DESC)."))


@strawberry.enum
class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


# The kinds' own ``Agreement`` is the GraphQL enum ``AgreementLevel``; import it from here.
strawberry.enum(Agreement, name="AgreementLevel")

# The domain's ``OnConflict`` is the GraphQL enum ``RecordConflictPolicy``; import it from here.
strawberry.enum(OnConflict, name="RecordConflictPolicy", description=(
    "What a re-add (by externalId) does when it changes the fields of a record that has responses: "
    "REFUSE that record (the default; reported in errors with reason answered_record), "
    "KEEP_RESPONSES (replace the fields, keep the answers given to the old ones), or "
    "DISCARD_RESPONSES (delete the record's responses and add it again, with a new id)."))
