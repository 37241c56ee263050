"""What each vendor needs to be connected: its parameters and secrets."""

from __future__ import annotations

from dataclasses import dataclass, field

# Parameters every vendor takes. time_zone: the IANA zone of the vendor's zone-less times;
# retention_days: how many days the vendor keeps its logs (default: the spec's retention_days).
COMMON_PARAMS = ("time_zone", "retention_days")


@dataclass(frozen=True)
class VendorSpec:
    vendor: str
    default_base_url: str
    # How many days the vendor keeps its logs, where its documents say; a conservative guess
    # where they are silent (the README's table names which is which).
    retention_days: int
    required_params: tuple[str, ...] = ()
    optional_params: tuple[str, ...] = ()
    required_secrets: tuple[str, ...] = ()
    optional_secrets: tuple[str, ...] = ()
    help: dict[str, str] = field(default_factory=dict)

    @property
    def params(self) -> tuple[str, ...]:
        return self.required_params + self.optional_params + COMMON_PARAMS

    @property
    def secrets(self) -> tuple[str, ...]:
        return self.required_secrets + self.optional_secrets
