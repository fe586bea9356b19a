"""The search over the space: an Optuna study, its trials the configurations, each trial's value its
capacity within the objective (``bracket``).

- **Sampler**: TPE (multivariate, grouped, so a mode's own tunables are modelled together), seeded by
  the tune's recorded seed. The folk default of every mode is enqueued first: the search starts from
  what people run, and the answer has the folk default of the server it recommends.
- **Pruning**: after each probe the trial reports its lower end, records its upper end, and asks the
  study's pruner (``CannotWinPruner``). A configuration that goes beyond the objective at a rate at or
  below the best confirmed capacity so far cannot be told apart from it, let alone beat it: it stops
  there. Each configuration after the first starts at that best capacity, so one probe prunes one that
  cannot win. Optuna's successive halving and Hyperband compare trials at equal steps, which here are
  probes at different rates; the bracket says exactly when a configuration cannot win.
- **Storage**: SQLite in the tune's folder (``tune.db``). A tune stopped by Ctrl-C resumes: the trial it
  was measuring is marked failed and enqueued again (its probes already on disk are not measured
  again, the runner resumes them), and the wall time spent so far counts against the budget.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import optuna
from optuna.pruners import BasePruner
from optuna.samplers import TPESampler
from optuna.trial import FrozenTrial, Trial, TrialState
from sqlalchemy.exc import SQLAlchemyError

from servingmatrix.errors import UserError
from servingmatrix.modes import ModeConfig
from servingmatrix.say import Say
from servingmatrix.tune.bracket import ConfigurationCapacity, find_capacity
from servingmatrix.tune.probe import Prober
from servingmatrix.tune.request import TuneRequest, request_differences
from servingmatrix.tune.result_file import capacity_as_json, capacity_from_json
from servingmatrix.tune.space import SearchSpace

STUDY_NAME = "tune"
STORAGE_FILE = "tune.db"
#: Trial attributes: the capacity found (as ``tune.json`` holds it), the bracket's upper end so far,
#: and a confirmed capacity's lower end (what pruning compares with).
CAPACITY_ATTR = "capacity"
UPPER_ATTR = "upper_rps"
CONFIRMED_ATTR = "confirmed_lower_rps"
#: Study attributes: the request, the wall time spent, whether the folk defaults were enqueued, and the
#: folk defaults measured outside the trials.
REQUEST_ATTR = "request"
ELAPSED_ATTR = "elapsed_s"
ENQUEUED_ATTR = "folk_defaults_enqueued"
FOLK_ATTR = "folk_defaults"
#: The search has converged when it proposes this many configurations already measured in a row.
MAX_REPEATS = 20


def best_confirmed(study: optuna.Study) -> int | None:
    """The highest confirmed capacity among the study's finished trials (req/s)."""
    found = [
        t.user_attrs.get(CONFIRMED_ATTR)
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    ]
    rates = [r for r in found if isinstance(r, int)]
    return max(rates) if rates else None


class CannotWinPruner(BasePruner):
    """Prunes a trial whose bracket's upper end is at or below the best confirmed capacity."""

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        upper = trial.user_attrs.get(UPPER_ATTR)
        best = best_confirmed(study)
        return isinstance(upper, int) and best is not None and upper <= best


def storage_url(folder: Path) -> str:
    return f"sqlite:///{(folder / STORAGE_FILE).resolve()}"


def recorded_request(folder: Path) -> dict[str, Any] | None:
    """The request a tune folder's study recorded; None when the folder holds no study."""
    if not (folder / STORAGE_FILE).is_file():
        return None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=STUDY_NAME, storage=storage_url(folder))
    except KeyError:
        return None
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise UserError(
            f"--out {folder}: {STORAGE_FILE} is not a tune's study ({reason}); choose another --out, or "
            "remove that folder"
        ) from None
    recorded = study.user_attrs.get(REQUEST_ATTR)
    return recorded if isinstance(recorded, dict) else None


def check_same_request(folder: Path, request: TuneRequest) -> None:
    """Refuse to resume, in ``folder``, a tune that asked something else."""
    recorded = recorded_request(folder)
    if recorded is None:
        return
    differences = request_differences(recorded, request)
    if differences:
        raise UserError(
            f"--out {folder}: holds a tune that asked otherwise ({'; '.join(differences[:2])}); choose "
            "another --out, or remove that folder"
        )


@dataclass(frozen=True)
class SearchOutcome:
    """Every configuration measured, in order (the folk defaults measured apart last), and why the
    search ended."""

    capacities: tuple[ConfigurationCapacity, ...]
    stopped: str
    elapsed_s: float


def _capacity(trial: FrozenTrial) -> ConfigurationCapacity | None:
    data = trial.user_attrs.get(CAPACITY_ATTR)
    return None if data is None else capacity_from_json(f"{STORAGE_FILE} trial {trial.number}", data)


class TuneSearch:
    """One tune's study: measure configurations until the budget, the space or the search runs out."""

    def __init__(
        self,
        space: SearchSpace,
        prober: Prober,
        request: TuneRequest,
        folder: Path,
        say: Say,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.space = space
        self.prober = prober
        self.request = request
        self.folder = folder
        self.say = say
        self.clock = clock

    def open_study(self) -> optuna.Study:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.folder.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            # ``group`` (a mode's own tunables modelled together) is marked experimental in Optuna 5.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = TPESampler(seed=self.request.seed, multivariate=True, group=True)
        study = optuna.create_study(
            study_name=STUDY_NAME,
            storage=storage_url(self.folder),
            sampler=sampler,
            pruner=CannotWinPruner(),
            direction="maximize",
            load_if_exists=True,
        )
        recorded = study.user_attrs.get(REQUEST_ATTR)
        if isinstance(recorded, dict):
            differences = request_differences(recorded, self.request)
            if differences:
                raise UserError(f"{self.folder}: holds a tune that asked otherwise ({differences[0]})")
        study.set_user_attr(REQUEST_ATTR, self.request.as_json())
        return study

    def resume(self, study: optuna.Study) -> None:
        """The trials an interrupt left running: failed, and enqueued again to be measured first."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            study.tell(trial.number, state=TrialState.FAIL)
            study.enqueue_trial(dict(trial.params))
            self.say(f"resuming: trial {trial.number} was interrupted; measuring it again")

    def enqueue_folk_defaults(self, study: optuna.Study) -> None:
        if study.user_attrs.get(ENQUEUED_ATTR):
            return
        for mode in self.space.modes:
            default = self.space.folk_default(mode.mode.name)
            if self.space.holds(default):
                study.enqueue_trial(self.space.params(default))
        study.set_user_attr(ENQUEUED_ATTR, True)

    def measured(self, study: optuna.Study) -> list[ConfigurationCapacity]:
        """Every capacity the study's trials hold, in trial order."""
        found = (_capacity(t) for t in study.get_trials(deepcopy=False))
        return [c for c in found if c is not None]

    def run(self) -> SearchOutcome:
        study = self.open_study()
        self.resume(study)
        self.enqueue_folk_defaults(study)
        earlier = study.user_attrs.get(ELAPSED_ATTR, 0.0)
        began = self.clock()

        def elapsed() -> float:
            return float(earlier) + self.clock() - began

        stopped = self._search(study, elapsed)
        study.set_user_attr(ELAPSED_ATTR, elapsed())
        return SearchOutcome(tuple(self.measured(study)), stopped, elapsed())

    def _search(self, study: optuna.Study, elapsed: Callable[[], float]) -> str:
        repeats = 0
        while True:
            capacities = {c.spec: c for c in self.measured(study)}
            if elapsed() >= self.request.budget_s:
                return f"the budget of {self.request.budget_s / 60:g} min ran out"
            if len(capacities) >= self.space.size:
                return f"every configuration of the space ({self.space.size}) was measured"
            most = self.request.max_configs
            if most is not None and len(capacities) >= most:
                return f"{most} configurations were measured, the most asked"
            trial = study.ask()
            config = self.space.suggest(trial)
            known = capacities.get(config.spec)
            if known is not None:
                # TPE proposes again what it has measured: tell it what it was, and count.
                study.tell(trial, float(known.lower_rps or 0))
                repeats += 1
                if repeats >= MAX_REPEATS:
                    return f"the search proposed only configurations already measured, {MAX_REPEATS} in a row"
                continue
            repeats = 0
            self.measure(study, trial, config)
            study.set_user_attr(ELAPSED_ATTR, elapsed())

    def measure(self, study: optuna.Study, trial: Trial, config: ModeConfig) -> ConfigurationCapacity:
        """``config``'s capacity as the trial's value, from the best confirmed capacity so far (pruned
        as soon as it cannot win)."""
        floor = best_confirmed(study)
        steps = 0

        def stop(lower: int | None, upper: int | None) -> str | None:
            nonlocal steps
            steps += 1
            if upper is not None:
                trial.set_user_attr(UPPER_ATTR, upper)
            trial.report(float(lower or 0), steps)
            if trial.should_prune():
                return (
                    f"beyond the objective at {upper} req/s, at or below the best capacity so far "
                    f"({best_confirmed(study)} req/s): it cannot win"
                )
            return None

        start = f"{floor} req/s, the best so far" if floor is not None else "the first rate"
        self.say(f"trial {trial.number}: {config.spec} from {start} ...")
        capacity = find_capacity(
            config, self.prober, self.request.objective, self.request.bracket, start=floor, stop=stop
        )
        trial.set_user_attr(CAPACITY_ATTR, capacity_as_json(capacity))
        if capacity.status == "found":
            trial.set_user_attr(CONFIRMED_ATTR, capacity.lower_rps)
        if capacity.status == "pruned":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, float(capacity.lower_rps or 0))
        self.say(f"  {config.spec}: {capacity.status}: {capacity.note} ({len(capacity.probes)} probes)")
        return capacity

    def measure_folk_default(self, config: ModeConfig) -> ConfigurationCapacity:
        """A folk default measured in full, without pruning, outside the trials (so the answer can say
        what it serves); kept in the study, so a resumed tune does not measure it again."""
        study = self.open_study()
        kept = study.user_attrs.get(FOLK_ATTR, [])
        for data in kept:
            capacity = capacity_from_json(f"{STORAGE_FILE} folk defaults", data)
            if capacity.spec == config.spec:
                return capacity
        self.say(f"the folk default {config.spec}, measured in full to compare ...")
        capacity = find_capacity(config, self.prober, self.request.objective, self.request.bracket)
        study.set_user_attr(FOLK_ATTR, [*kept, capacity_as_json(capacity)])
        self.say(f"  {config.spec}: {capacity.status}: {capacity.note} ({len(capacity.probes)} probes)")
        return capacity

    def folk_defaults(self) -> list[ConfigurationCapacity]:
        study = self.open_study()
        return [
            capacity_from_json(f"{STORAGE_FILE} folk defaults", d)
            for d in study.user_attrs.get(FOLK_ATTR, [])
        ]
