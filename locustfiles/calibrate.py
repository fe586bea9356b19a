"""The calibration: GET /delay?ms=0 of the upstream service, the cheapest answer there is.

Run before a matrix, on the load generator's own cores, to learn the most it can send on this machine.
"""

from locust import task
from smconfig import Target
from smlocust import StepShape, WorkloadUser

TARGET = Target("calibrate", "/delay?ms=0")


class CalibrationUser(WorkloadUser):
    @task
    def get_trivial(self) -> None:
        self.hit(TARGET)


# Locust finds the load shape among this module's names.
__all__ = ["CalibrationUser", "StepShape"]
