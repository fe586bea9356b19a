"""Workload bytes: GET /bytes, a response of kb KiB (SM_PARAMS kb)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("bytes", "/bytes")


class BytesUser(WorkloadUser):
    @task
    def get_bytes(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["BytesUser", "StepShape"]
