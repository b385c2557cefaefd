"""The seed's three jobs: their names as a Mifos user knows them and their URL names."""

from __future__ import annotations

from enum import StrEnum

from herald.errors import ValidationError


class Job(StrEnum):
    """The seed's three jobs; the value is the name a Mifos user knows."""

    UPDATE_OUTBOUND = "Update SMS Outbound with Campaign Message"
    SEND = "Send Messages to SMS Gateway"
    DELIVERY_REPORTS = "Get Delivery Reports from SMS Gateway"

    @property
    def slug(self) -> str:
        return {"UPDATE_OUTBOUND": "update-outbound", "SEND": "send", "DELIVERY_REPORTS": "delivery-reports"}[self.name]

    @classmethod
    def from_slug(cls, text: str) -> Job:
        for job in cls:
            if text in (job.slug, job.value, job.name.lower()):
                return job
        names = ", ".join(j.slug for j in cls)
        raise ValidationError(f"Unknown job {text!r}; the jobs are: {names}.", field="job")
