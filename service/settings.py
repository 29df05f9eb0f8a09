"""Service settings, read from the environment (``FEEDBACKQL_*``) by pydantic-settings."""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FEEDBACKQL_", extra="ignore")

    mongodb_uri: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URI", "FEEDBACKQL_MONGODB_URI")
    )
    database_name: str = "feedbackql"
    owner_api_key: SecretStr | None = None
    graphiql: bool = True
    builtin_plugins_only: bool = False

    max_query_depth: int = Field(default=10, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=10_000, ge=100)
    max_page_size: int = Field(default=1000, ge=1, le=1000)
    max_records_per_call: int = Field(default=1000, ge=1, le=10_000)
    max_body_bytes: int = Field(default=32 * 1024 * 1024, ge=1024)
