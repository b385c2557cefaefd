"""The seed's three jobs, and herald's catch-up of missed Fineract events: their names and their URL names."""

from __future__ import annotations

from enum import StrEnum

from herald.errors import ValidationError


class Job(StrEnum):
    """The seed's three jobs, then herald's own; the value is the name a user sees."""

    UPDATE_OUTBOUND = "Update SMS Outbound with Campaign Message"
    SEND = "Send Messages to SMS Gateway"
    DELIVERY_REPORTS = "Get Delivery Reports from SMS Gateway"
    CATCH_UP = "Catch up missed Fineract events"  # Triggered campaigns' events whose hook never came

    @property
    def slug(self) -> str:
        return {
            "UPDATE_OUTBOUND": "update-outbound",
            "SEND": "send",
            "DELIVERY_REPORTS": "delivery-reports",
            "CATCH_UP": "catch-up",
        }[self.name]

    @classmethod
    def from_slug(cls, text: str) -> Job:
        for job in cls:
            if text in (job.slug, job.value, job.name.lower()):
                return job
        names = ", ".join(j.slug for j in cls)
        raise ValidationError(f"Unknown job {text!r}; the jobs are: {names}.", field="job")
