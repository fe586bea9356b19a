"""Workload io: GET /io, a sleep of ms milliseconds in the handler (SM_PARAMS ms)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("io", "/io")


class IoUser(WorkloadUser):
    @task
    def get_io(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["IoUser", "StepShape"]
