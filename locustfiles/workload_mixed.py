"""Workload mixed: a weighted blend of the other endpoints, the entries and weights given in SM_MIX."""

import itertools
import random

from locust import task
from smlocust import StepShape, WorkloadUser, mixed_targets

TARGETS, WEIGHTS = mixed_targets()
# Cumulative weights once, so each pick is one bisect rather than a sum over the entries.
CUM_WEIGHTS = tuple(itertools.accumulate(WEIGHTS))


class MixedUser(WorkloadUser):
    @task
    def get_mixed(self) -> None:
        self.hit(random.choices(TARGETS, cum_weights=CUM_WEIGHTS)[0])


# Locust finds the load shape among this module's names.
__all__ = ["MixedUser", "StepShape"]
