"""Settings, read once from PATRONAGE_* environment variables."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting is documented in README.md (a test checks this)."""

    model_config = SettingsConfigDict(env_prefix="PATRONAGE_", extra="ignore")

    database_url: str = Field(
        default="sqlite:///./patronage.db",
        description="SQLAlchemy URL of the database (SQLite file or PostgreSQL).",
    )
    environment: str = Field(default="development", description="development, test or production.")
    secret_key: str = Field(
        default="change-me",
        description="Secret for signed links and sessions; must be changed in production.",
    )
    host: str = Field(default="127.0.0.1", description="Address `patronage serve` binds.")
    port: int = Field(default=8000, description="Port `patronage serve` listens on.")
    scheduler: bool = Field(
        default=True, description="Run due jobs (expiry, tier review) inside `patronage serve`."
    )
    scheduler_interval_seconds: int = Field(
        default=300, description="How often the in-server scheduler looks for due jobs."
    )

    retention_days: int = Field(
        default=0,
        description="Erase members' personal data after this many days without activity (0: keep).",
    )

    survey_recontact_days: int = Field(
        default=30,
        description="Default re-contact limit of a new survey: at most one survey invitation "
        "per member in this many days.",
    )
    recovery_approval_points: int = Field(
        default=500,
        description="Apology points above this need an admin's approval before they are posted.",
    )

    def check_production(self) -> None:
        if self.environment == "production" and self.secret_key == "change-me":
            raise RuntimeError("PATRONAGE_SECRET_KEY must be set to a random value in production")


@lru_cache
def get_settings() -> Settings:
    return Settings()
