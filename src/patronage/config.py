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
    log_format: str = Field(
        default="json",
        pattern="^(json|text)$",
        description="`patronage serve` logs: one JSON object a line (json) or plain text.",
    )
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

    # Care journeys and message delivery (README "Care journeys and messages").
    smtp_host: str = Field(default="localhost", description="SMTP server for e-mail messages.")
    smtp_port: int = Field(default=25, description="SMTP port (STARTTLS is used when offered).")
    smtp_user: str = Field(default="", description="SMTP user name (empty: no login).")
    smtp_password: str = Field(default="", description="SMTP password.")
    smtp_from: str = Field(default="loyalty@example.com", description="Sender of e-mail messages.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the API as members reach it, for unsubscribe links.",
    )
    quiet_hours: str = Field(
        default="21:00-08:00",
        description="No messages to members in these local hours (HH:MM-HH:MM; empty: none).",
    )
    messages_per_week: int = Field(
        default=3,
        description="At most this many journey messages per member in 7 days (0: no cap).",
    )
    outbox_max_attempts: int = Field(
        default=8, description="Attempts before a message goes to the dead-letter list."
    )
    outbox_backoff_seconds: int = Field(
        default=30, description="Wait after the first failed attempt; doubles with each attempt."
    )
    outbox_lease_seconds: int = Field(
        default=300,
        description="A message claimed or being sent by a worker that has been silent this "
        "long is recovered by the next worker.",
    )
    worker_poll_seconds: float = Field(
        default=5.0, description="How often `patronage worker` looks for due messages."
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, description="Timeout of one webhook POST or SMTP conversation."
    )
    sms_provider: str = Field(
        default="", description="SMS provider factory as module:function (empty: SMS not sent)."
    )
    wechat_provider: str = Field(
        default="",
        description="WeChat template-message provider factory as module:function (empty: none).",
    )
    journey_holidays: str = Field(
        default="",
        description="Extra greeting days besides Spring Festival and Mid-Autumn, "
        "as code:MM-DD or code:YYYY-MM-DD, comma separated.",
    )
    winback_days: int = Field(
        default=90, description="Win-back message when a member has not bought for this many days."
    )
    complaint_followup_days: int = Field(
        default=7, description="Care message when a member's complaint is unresolved this long."
    )

    referral_referrer_points: int = Field(
        default=200,
        description="Points for a member whose referee makes a first qualifying purchase.",
    )
    referral_referee_points: int = Field(
        default=100, description="Points for the referee on that first qualifying purchase."
    )
    referral_min_amount: int = Field(
        default=5000, description="Smallest purchase (minor units) that qualifies a referral."
    )
    referral_limit: int = Field(default=20, description="Most referrals one member may make.")
    birthday_points: int = Field(
        default=100, description="Bonus points in a member's birthday month (0: none)."
    )
    birthday_window: str = Field(
        default="month",
        description="Award the birthday bonus in the birthday `month` or on the `day`.",
    )
    analytics_memory_mb: int = Field(
        default=1024,
        ge=64,
        description="DuckDB's memory limit for the analytics (it spills to disk beyond); the "
        "customer summary works through the transactions in passes sized to a quarter of it.",
    )

    analytics_inline_events: int = Field(
        default=20000,
        ge=0,
        description="The dashboard's heavy panels (RFM, 80/20, cohort retention) and the "
        "training impact report are computed inside the page request while there are at "
        "most this many events; above, in background jobs whose results are kept.",
    )

    def check_production(self) -> None:
        if self.environment == "production" and self.secret_key == "change-me":
            raise RuntimeError("PATRONAGE_SECRET_KEY must be set to a random value in production")


@lru_cache
def get_settings() -> Settings:
    return Settings()
