"""Workload cpu: GET /cpu, pure-Python CPU work of n units (SM_PARAMS n)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("cpu", "/cpu")


class CpuUser(WorkloadUser):
    @task
    def get_cpu(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["CpuUser", "StepShape"]
