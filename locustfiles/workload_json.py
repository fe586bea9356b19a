"""Workload json: GET /json, a small JSON document: what the framework and the server cost on their own."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("json", "/json")


class JsonUser(WorkloadUser):
    @task
    def get_json(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["JsonUser", "StepShape"]
