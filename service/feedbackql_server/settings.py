"""Service settings, read from the environment (``FEEDBACKQL_*``) by pydantic-settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is ``FEEDBACKQL_<NAME>`` in the environment.

    ``environment=production`` turns GraphiQL, introspection and "did you mean" field
    suggestions off unless they are switched on explicitly.
    """

    model_config = SettingsConfigDict(env_prefix="FEEDBACKQL_", extra="ignore")

    environment: Literal["development", "production"] = "development"

    mongodb_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URI", "FEEDBACKQL_MONGODB_URI")
    )
    database_name: str = "feedbackql"
    mongodb_max_pool_size: int = Field(
        default=100, ge=1, description="Connections to the database.")
    owner_api_key: SecretStr | None = None
    graphiql: bool | None = None
    introspection: bool | None = None
    field_suggestions: bool | None = None
    cors_allow_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated origins allowed to call the API.")
    builtin_plugins_only: bool = False

    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=10_000, ge=100)
    max_page_size: int = Field(default=1000, ge=1, le=1000)
    max_records_per_call: int = Field(default=1000, ge=1, le=10_000)
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
    max_query_cost: int = Field(default=200_000, ge=1)
    default_list_size: int = Field(
        default=5, ge=1, description="Items assumed for lists without `first` in the cost.")
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    max_scan_records: int = Field(
        default=2_000, ge=0, description="Records a filter count or an update-time sort may read "
                                          "when no index serves it; larger datasets refuse it (QUERY_TOO_COSTLY).")
    header_timeout_seconds: float = Field(
        default=10.0, gt=0, description="`feedbackql serve`: time for a request's line and headers to arrive.")
    keep_alive_seconds: int = Field(
        default=5, ge=1, description="`feedbackql serve`: how long an idle keep-alive connection stays open.")
    max_concurrency: int = Field(
        default=1000, ge=1, description="`feedbackql serve`: open connections beyond which new ones get "
                                        "a JSON 503 UNAVAILABLE.")
    max_connections_per_address: int = Field(
        default=100, ge=1, description="`feedbackql serve`: open HTTP connections of one client address "
                                       "beyond which its new ones get a JSON 503 UNAVAILABLE.")
    max_sockets_per_key: int = Field(
        default=16, ge=1, description="Open WebSockets of one API key; more are closed with 4429.")
    max_requests_in_flight_per_key: int = Field(
        default=8, ge=1, description="Requests and WebSocket operations of one API key running at once "
                                     "(with rate limiting on); more get RATE_LIMITED.")
    read_buckets_per_second: float = Field(
        default=5.0, ge=0, description="Buckets of 100 records one API key's record pages and counts may "
                                        "read per second, across its connections (with rate limiting on; "
                                        "0: no limit); more get RATE_LIMITED.")
    read_buckets_burst: int = Field(
        default=20, ge=1, description="Buckets of 100 records one API key may read at once before "
                                       "read_buckets_per_second applies.")
    document_cache_size: int = Field(default=512, ge=1)
    rate_limit_per_second: float = Field(
        default=50.0, ge=0, description="Sustained requests per API key (0: no limit).")
    rate_limit_burst: int = Field(default=200, ge=1)

    vector_index_dir: Path | None = Field(
        default=None, description="Where vector spaces and their approximate indexes are saved (`feedbackql "
                                  "serve`: DATA_DIR/vectors); unset: nowhere, rebuilt from the database.")
    vector_approximate_min: int = Field(
        default=20_000, ge=0, description="Vectors a space holds before it gets an approximate index.")
    storage_paths: Literal["auto", "mongodb"] = Field(
        default="auto", description="auto: the code paths that suit the server (FerretDB's or MongoDB's); "
        "mongodb: MongoDB's paths whatever the server, which CI uses to run them on the embedded FerretDB.")
    lease_seconds: float = Field(
        default=600, gt=0, description="How long nextRecords reserves a record for a labeler.")
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    progress_interval_seconds: float = Field(
        default=0.5, ge=0, description="Least time between two pushed progress snapshots.")

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.production

    @property
    def field_suggestions_enabled(self) -> bool:
        return self.field_suggestions if self.field_suggestions is not None else not self.production
