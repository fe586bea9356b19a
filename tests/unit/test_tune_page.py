"""A tune's page: the recommendation first, beside the folk default, the ranking, the command to deploy
it, and the search's history with one mark per probe."""

from __future__ import annotations

import re
from pathlib import Path

from servingmatrix.report.views.tune_page import write_tune_page
from servingmatrix.tune.request import TuneRequest
from servingmatrix.tune.tune import tune

from .tune_models import ServerModel


def test_the_page_opens_with_the_recommendation_and_draws_every_probe(tmp_path: Path) -> None:
    model = ServerModel(lambda c: 30.0 * c.counted("processes") + c.counted("threads"))
    asked = TuneRequest(modes=("gunicorn-sync", "waitress[threads=8]"), workload="mixed")
    result = tune(asked, model, tmp_path, lambda _line: None, model.clock)
    html = write_tune_page(result, tmp_path).read_text()
    headings = re.findall(r"<h2[^>]*>([^<]+)</h2>", html)
    assert headings[0] == "Recommendation" and "Ranking" in headings and "The search" in headings
    assert result.recommendation is not None and result.recommendation in html
    assert (
        f'The folk default of the same server at the same budget, <span class="mono">{result.folk_default}'
        in html
    )
    probes = sum(len(c.probes) for c in result.capacities)
    assert html.count('class="mark"') == probes == len(model.probes)
    assert "gunicorn --bind 0.0.0.0:8000" in html and "--graceful-timeout" not in html
    assert "objective: p99 500 ms" in html
