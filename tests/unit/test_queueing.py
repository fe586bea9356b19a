"""The queueing predictions against values known in closed form."""

from __future__ import annotations

import math
import random

import pytest

from servingmatrix.analysis.queueing import erlang_c, fifo_latencies_s, mdc_latency_s, mdc_wait_s, mmc_wait_s


def erlang_c_by_its_sum(servers: int, offered: float) -> float:
    """Erlang C as textbooks write it, with factorials (fine for the small ``c`` here)."""
    c, a = servers, offered
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def test_one_server_waits_as_often_as_it_is_busy() -> None:
    for offered in (0.1, 0.5, 0.9):
        assert erlang_c(1, offered) == pytest.approx(offered)


def test_erlang_c_matches_its_closed_form() -> None:
    assert erlang_c(2, 1.0) == pytest.approx(1 / 3)
    for servers, offered in [(2, 1.5), (4, 2.0), (4, 3.6), (8, 7.0), (16, 12.0)]:
        assert erlang_c(servers, offered) == pytest.approx(erlang_c_by_its_sum(servers, offered))


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.9, 0.99])
def test_m_m_1_waits_rho_over_mu_minus_lambda(rho: float) -> None:
    mu = 10.0
    assert mmc_wait_s(rho * mu, 1 / mu, 1) == pytest.approx(rho / (mu - rho * mu))


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.9, 0.99])
def test_m_d_1_is_the_exact_pollaczek_khinchine_wait(rho: float) -> None:
    mu = 10.0
    assert mdc_wait_s(rho * mu, 1 / mu, 1) == pytest.approx(rho / (2 * mu * (1 - rho)))


def test_m_m_2_at_half_load_waits_a_third_of_a_service() -> None:
    # C(2, 1) = 1/3, and c mu - lambda = 1 per service time.
    assert mmc_wait_s(10.0, 0.1, 2) == pytest.approx(1 / 30)


def test_several_deterministic_servers_wait_more_than_half_of_m_m_c_and_less_than_all() -> None:
    for rho in (0.5, 0.8, 0.9):
        mmc = mmc_wait_s(40 * rho, 0.1, 4)
        assert 0.5 * mmc < mdc_wait_s(40 * rho, 0.1, 4) < mmc


def test_four_sleeping_workers_at_90_percent_wait_about_a_service_time() -> None:
    # io[ms=100] on gunicorn-sync[workers=4]: 40 req/s at most; at 36 req/s a request waits ~100 ms.
    assert mdc_wait_s(36, 0.1, 4) == pytest.approx(0.1, rel=0.01)
    assert mdc_latency_s(36, 0.1, 4) == pytest.approx(0.1 + mdc_wait_s(36, 0.1, 4))


@pytest.mark.parametrize(
    ("rate", "service_s", "servers"), [(40, 0.1, 4), (50, 0.1, 4), (0, 0.1, 4), (10, 0.0, 4), (10, 0.1, 0)]
)
def test_an_unstable_or_meaningless_queue_is_refused(rate: float, service_s: float, servers: int) -> None:
    with pytest.raises(ValueError):
        mdc_wait_s(rate, service_s, servers)


def poisson(rate: float, count: int, seed: int) -> list[float]:
    rng = random.Random(seed)
    t, out = 0.0, []
    for _ in range(count):
        t += rng.expovariate(rate)
        out.append(t)
    return out


@pytest.mark.parametrize("load", [0.5, 0.8, 0.9])
def test_the_queue_played_on_a_long_poisson_stream_waits_as_m_d_c_predicts(load: float) -> None:
    service_s, servers = 0.1, 4
    rate = load * servers / service_s
    latencies = fifo_latencies_s(poisson(rate, 200_000, seed=7), service_s, servers)
    mean = sum(latencies) / len(latencies)
    assert mean == pytest.approx(mdc_latency_s(rate, service_s, servers), rel=0.03)


def test_the_queue_serves_in_arrival_order_on_the_first_free_worker() -> None:
    # Two workers of 1 s: the third arrival waits for the first to finish, the fourth for the second.
    assert fifo_latencies_s([0.0, 0.0, 0.5, 0.6], 1.0, 2) == [1.0, 1.0, 1.5, 1.4]
    # Arrivals are taken in time order whatever order they are given in.
    assert fifo_latencies_s([0.6, 0.0, 0.5, 0.0], 1.0, 2) == [1.0, 1.0, 1.5, 1.4]
    # Never waiting: each takes exactly the service.
    assert fifo_latencies_s([0.0, 2.0, 4.0], 1.0, 1) == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="servers: 0"):
        fifo_latencies_s([0.0], 1.0, 0)
