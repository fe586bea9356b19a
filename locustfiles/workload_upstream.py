"""Workload upstream: GET /upstream, a call to the upstream service that answers after ms (SM_PARAMS ms)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("upstream", "/upstream")


class UpstreamUser(WorkloadUser):
    @task
    def get_upstream(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["StepShape", "UpstreamUser"]
