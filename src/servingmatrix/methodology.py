"""How each derived number is computed, written once: the report prints it and so does the README.
The flags' thresholds are their declarations' (``flags.py``)."""

from __future__ import annotations

from servingmatrix import fmt
from servingmatrix.flags import kind
from servingmatrix.precision import MIN_AUTO_TRIALS

#: The knee is the lowest step reaching this share of the series' highest throughput (``analysis.stats``).
KNEE_SHARE = 0.90

_BOUND = kind("generator-bound").thresholds
_CV = kind("high-variance").thresholds["cv"]
_OUTLIER = kind("outlier-trial").thresholds

DERIVED: tuple[tuple[str, str], ...] = (
    (
        "throughput",
        "successful requests completed in the measured window (warm-up discarded) / the window's seconds; "
        "over several trials, the median",
    ),
    (
        "latency p50 / p95 / p99",
        "nearest rank over every successful request's client-measured time in the window (not Locust's "
        "rounded histogram); over several trials, the median of the trials' percentiles",
    ),
    ("error rate", "failed requests / all requests in the window, summed over the trials"),
    (
        "spread and 95% interval",
        "the lowest and highest trial; the interval is the percentile bootstrap of the median (the 2.5th "
        "and 97.5th percentiles of the medians of the trials resampled with replacement, from their exact "
        "distribution rather than random resamples): with 2 to 5 trials it spans the lowest to the "
        "highest, and with 3 it holds the true median only about 75% of the time; one trial gives no "
        "estimate of variance, and the report says so",
    ),
    (
        "trials to a precision",
        f"`--trials auto`: every mode x workload gets at least {MIN_AUTO_TRIALS} independent sessions (a "
        "fresh stack each), round by round; after each round from that one, each step whose throughput "
        "has a 95% interval of the median (above) wider than `--precision` of the median gets one more, "
        "up to `--max-trials`. A further trial is a fresh session of only the steps short of the "
        "precision: a step within it keeps its figures, and a step measured alone starts from a fresh "
        "stack rather than after the step below it (its warm-up is what it has to settle). Within each "
        "round the modes run in an order shuffled from a seed "
        "recorded in run.json (`trial_order_seed`; a resume goes on with it), so drift of the machine "
        "lands on no mode always in the same place. A figure still short at the most trials carries P "
        "with the precision it reached; latency is not held to the precision (its percentiles are the "
        "median of the trials')",
    ),
    (
        "noisy",
        f"the trials' throughput has a standard deviation above {_CV} of its mean (pyperf's rule)",
    ),
    (
        "outlier trial",
        f"with {_OUTLIER['min_trials']} trials or more, a trial whose modified z-score 0.6745 x (x - median) "
        f"/ MAD is above {_OUTLIER['z']} in size (Iglewicz and Hoaglin; MAD is the median of the absolute "
        "deviations from the median); when MAD is 0, (x - median) / (1.253314 x the mean absolute "
        "deviation) instead, and no outlier when every trial is the same; a trial within "
        f"{_OUTLIER['min_share']} of the median is never one",
    ),
    (
        "generator-bound",
        f"the load generator used at least {_BOUND['cpu']} of its CPU quota, was throttled by it for more "
        f"than {_BOUND['throttled']} of the window, sent at least {_BOUND['ceiling']} of the most the "
        "calibration found it can send (the calibration: "
        "one closed-loop session against the upstream's trivial endpoint before the matrix, in a fleet one "
        "per server host's lane, or one made in the last 24 hours on the same machine, images and CPU "
        "plan, reused and named as such), or "
        f"its generator efficiency is below {_BOUND['efficiency']}",
    ),
    (
        "generator efficiency",
        "Locust's throughput / the reference generator's: wrk, a native client, against the same server "
        "right after the Locust steps, with as many connections as the step's users, on the load "
        "generator's cores and quota, after its own 1 s warm-up; over several trials, the median",
    ),
    (
        "capacity",
        "per mode and workload, the highest throughput among the steps meeting the objective (p99 at or "
        "under the limit, at most 1% errors); in an open-loop run, the rate achieved beside the rate "
        "offered",
    ),
    (
        "knee",
        f"the lowest step whose throughput reaches {fmt.share(KNEE_SHARE)} of the mode's highest on that "
        "workload: past it, "
        "more load only adds latency; at the last step served, the throughput may still grow",
    ),
    (
        "verdict",
        "per workload, each mode's best user level among those meeting the objective (p99 at or under "
        "the limit, at most 1% errors, not failed); the mode with the highest such throughput wins",
    ),
    (
        "ranking with a generator-bound figure",
        "the ranking stays by Locust's figures (the workload as users send it, with the latency the "
        "objective judges, which wrk's single request loop does not measure); a generator-bound figure "
        "is a lower bound, so when a mode below the winner is bound and wrk drew more from its server "
        "than the winner's figure, or no reference measured it, the verdict says the order is not "
        "settled and names it; otherwise it says the winner stands and the places below it may not; "
        "the reference figure stands beside each figure in the ranking and the capacity table",
    ),
    (
        "margin",
        "the winner's throughput / the runner-up's - 1; its interval combines both sides' standard errors "
        "with Student's t at the smaller side's degrees of freedom (4.3 at two), wider than a bootstrap "
        "of so few trials and so slower to call a margin; 'clear' when the whole interval is above zero",
    ),
    (
        "effective concurrency",
        "Little's law: throughput x the time each request spends in the server, which for io[ms=X] is X; "
        "otherwise the client's mean latency (an upper bound)",
    ),
    (
        "promised concurrency",
        "what the mode's folk claim says it serves at once, from its tunables (empty: unbounded); the claim "
        "holds when the effective concurrency is within 10% of the promise, or of the load offered when it "
        "is less: the users, or in an open loop the offered rate x the time each request takes",
    ),
    ("requests per CPU-second", "throughput / (server CPU % / 100), the CPU read from the server's cgroup"),
    (
        "memory",
        "the server container's highest sample in the window, less reclaimable page cache; per worker: the "
        "resident memory of its largest process",
    ),
    (
        "change (compare)",
        "new median / baseline median - 1 per cell, for throughput and p99, with a 95% interval as for the "
        "margin; a regression is a change worse than the threshold whose interval, when known, excludes "
        "no change",
    ),
)
