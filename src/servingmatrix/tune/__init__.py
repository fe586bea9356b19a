"""``servingmatrix tune``: which server and which settings serve an app best on a CPU and memory budget,
within a latency objective, found by measurement, with the files to deploy it.

It sits above ``run/`` (each probe is a run of one configuration at one arrival rate) and
``analysis/`` (the objective), and below the command line:

- ``probe``: what one probe measured, the ``Prober`` that measures it, and its judgement;
- ``bracket``: a configuration's capacity within the objective, bracketed then bisected;
- ``space``: the search space, from the mode registry's tunables and their bounds;
- ``search``: Optuna's study over that space (TPE, pruning, SQLite storage to resume);
- ``answer``: the ranking, the set the best cannot be told from, the recommendation;
- ``artefacts``: the command, ``gunicorn.conf.py``, a Compose service and a Kubernetes container;
- ``request``: what a tune is asked, checked;
- ``result_file``: ``tune.json``, written and read strictly here;
- ``runner_prober``: the ``Prober`` that drives the runner;
- ``checks``: everything checked before anything is built;
- ``tune``: the use case, from the request to the answer on disk;
- ``measure_tune``: the use case for real, its images built and the runner its prober.
"""
