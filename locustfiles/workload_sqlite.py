"""Workload sqlite: GET /sqlite, the PostgreSQL read against SQLite, plus a count (SM_PARAMS rows, work)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("sqlite", "/sqlite")


class SqliteUser(WorkloadUser):
    @task
    def get_sqlite(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["SqliteUser", "StepShape"]
