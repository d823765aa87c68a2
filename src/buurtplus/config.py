"""All configuration, read from the environment (prefix BUURTPLUS_) and an optional .env file."""

import ipaddress
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from buurtplus.core.metrics import MetricsAccess
from buurtplus.delivery.ssrf import parse_allow_entry

DEFAULT_JWT_SECRET = "change-me-insecure-default"  # noqa: S105 - the value refused outside demo mode
MIN_SECRET_BYTES = 32
_GENERATE_HINT = 'e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BUURTPLUS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///./buurtplus.db",
        description="SQLAlchemy URL: a SQLite file, or postgresql+psycopg://user@host/db",
    )
    demo: bool = Field(default=False, description="Allow demo accounts and the default secret")
    demo_receiver_url: str = Field(
        default="http://127.0.0.1:8001/webhooks",
        description="Where the demo partners' webhooks go (examples/partner_receiver.py)",
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEFAULT_JWT_SECRET),
        description="HMAC key for access tokens; the service refuses to start on the default",
    )
    jwt_issuer: str = "buurtplus"
    jwt_audience: str = "buurtplus-api"
    access_token_minutes: int = Field(default=60, ge=1, le=24 * 60)
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated browser origins allowed by CORS"
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed sign-ins of one account from one address"
    )
    login_account_max_failures: int = Field(
        default=20, ge=1, description="Failed sign-ins of one account from all addresses"
    )
    login_address_max_failures: int = Field(
        default=100, ge=1, description="Failed sign-ins from one address, for all accounts"
    )
    login_window_seconds: int = Field(default=900, ge=1)
    login_lockout_seconds: int = Field(default=300, ge=1)
    password_hash_time_cost: int = Field(default=3, ge=1, le=20, description="Argon2 passes")
    password_hash_memory_kib: int = Field(
        default=65536, ge=1024, description="Argon2 memory per hash, KiB"
    )
    retention_days: int = Field(
        default=365, ge=1, description="Days after closing before a signal's personal content goes"
    )
    worker: Literal["inline", "off"] = Field(
        default="inline",
        description="inline: webhook delivery and periodic jobs run inside `buurtplus serve`; "
        "off: run them with `buurtplus worker`",
    )
    job_interval_seconds: int = Field(
        default=60, ge=1, description="How often the worker looks for overdue acknowledgements"
    )
    aed_check_interval_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="An AED nobody checked for longer than this is on the maintenance list",
    )
    router: str = Field(default="rules", description="Routing plugin slug: rules, static, ...")
    routing_static_file: str | None = Field(
        default=None, description="TOML category -> partner map for the static router"
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-For is believed (comma-separated, or *)",
    )
    webhook_allow_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated networks, each optionally with a port, that webhooks may "
        "go to although they are not public (e.g. 127.0.0.1:8001 for a receiver on this "
        "machine); everything else special is refused",
    )
    webhook_timeout_seconds: float = Field(
        default=15, ge=1, le=30, description="How long one webhook attempt may take in all"
    )
    webhook_lease_seconds: float = Field(
        default=60,
        ge=2,
        description="How long a worker holds a claimed delivery; must outlast the timeout",
    )
    webhook_concurrency: int = Field(
        default=4, ge=1, le=64, description="Deliveries one worker sends at the same time"
    )
    webhook_poll_seconds: float = Field(
        default=2, gt=0, le=60, description="How often an idle worker looks for due retries"
    )
    webhook_secret_grace_hours: float = Field(
        default=24, ge=0, le=24 * 30, description="How long a rotated-out secret still signs"
    )
    webhook_disable_after_days: float = Field(
        default=5, gt=0, description="An endpoint failing this long is switched off"
    )
    shutdown_seconds: int = Field(
        default=10,
        ge=0,
        le=600,
        description="On SIGTERM, how long requests and webhook deliveries in flight may take to "
        "finish; deliveries still unfinished are given back to the other workers at once",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="Bearer token that opens GET /metrics"
    )
    metrics_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated networks (CIDR) whose clients may read GET /metrics "
        "without the token",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    log_json: bool = Field(default=True, description="One JSON object per log line")

    @field_validator("cors_origins", "webhook_allow_networks", "metrics_networks", mode="before")
    @classmethod
    def split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("webhook_allow_networks")
    @classmethod
    def check_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                parse_allow_entry(entry)
            except ValueError as exc:
                raise ValueError(
                    f"{entry!r} is not a network with an optional port "
                    "(e.g. 127.0.0.0/8 or 127.0.0.1:8001)"
                ) from exc
        return value

    @field_validator("metrics_networks")
    @classmethod
    def check_metrics_networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not a network (e.g. 10.0.0.0/8)") from exc
        return value

    @field_validator("metrics_token")
    @classmethod
    def check_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # set but empty: no token opens the metrics
        if len(value.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"BUURTPLUS_METRICS_TOKEN is shorter than {MIN_SECRET_BYTES} bytes; "
                f"use a long random value, {_GENERATE_HINT}"
            )
        return value

    @model_validator(mode="after")
    def lease_outlasts_timeout(self) -> "Settings":
        if self.webhook_lease_seconds <= self.webhook_timeout_seconds:
            raise ValueError(
                "BUURTPLUS_WEBHOOK_LEASE_SECONDS must be longer than the webhook timeout, or a "
                "slow delivery would be taken over while it is still being sent"
            )
        return self

    @property
    def uses_default_secret(self) -> bool:
        return self.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET


class InsecureConfiguration(RuntimeError):
    """The configuration may not be served as it is."""


def check_servable(settings: Settings) -> None:
    if settings.demo:
        return
    if settings.uses_default_secret:
        raise InsecureConfiguration(
            "BUURTPLUS_JWT_SECRET is not set: refusing to start with the default JWT secret. "
            f"Set it to a long random value, {_GENERATE_HINT}."
        )
    if len(settings.jwt_secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
        raise InsecureConfiguration(
            f"BUURTPLUS_JWT_SECRET is shorter than {MIN_SECRET_BYTES} bytes: anyone could guess "
            f"it. Use a long random value, {_GENERATE_HINT}."
        )


def metrics_access(settings: Settings) -> MetricsAccess:
    """Who may read GET /metrics: the bearer of the metrics token, clients in the networks."""
    token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
    return MetricsAccess.of(token, settings.metrics_networks)


@lru_cache
def get_settings() -> Settings:
    return Settings()
