"""The one locustfile: every workload, and the calibration, send the requests given in SM_REQUESTS.

The harness renders SM_REQUESTS from its workload registry (src/servingmatrix/workloads.py): a
single-endpoint workload is one request, the mixed one a weighted list, the calibration the upstream's
trivial endpoint. Named so that it shadows no module on the path (Locust imports it by file name).
"""

from locust import task
from smconfig import picker
from smlocust import SETTINGS, StepShape, WorkloadUser

# Worked out once, at import: per request, one call names the next request (see ``picker``).
NEXT_REQUEST = picker(SETTINGS.targets, SETTINGS.weights)


class RequestsUser(WorkloadUser):
    @task
    def send(self) -> None:
        self.hit(NEXT_REQUEST())


# Locust finds the load shape among this module's names.
__all__ = ["RequestsUser", "StepShape"]
