"""Workload db: GET /db, a PostgreSQL read of rows rows plus an optional pg_sleep(ms) (SM_PARAMS ms, rows)."""

from locust import task
from smlocust import StepShape, WorkloadUser, single_target

TARGET = single_target("db", "/db")


class DbUser(WorkloadUser):
    @task
    def get_db(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["DbUser", "StepShape"]
