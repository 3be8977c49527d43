"""The engine's Prometheus exposition and its bounded histograms."""

from __future__ import annotations

import math

from dialer.core.metrics import RECENT, EngineMetrics, Histogram, render


def test_histograms_are_cumulative_and_bounded() -> None:
    histogram = Histogram(buckets=(0.01, 0.1, 1.0))
    for value in (0.005, 0.05, 0.05, 0.5, 5.0):
        histogram.observe(value)
    assert histogram.counts == [1, 3, 4]
    assert (histogram.count, round(histogram.total, 3)) == (5, 5.605)
    assert histogram.percentile(0.5) == 0.05 and histogram.percentile(1.0) == 5.0
    for _ in range(RECENT * 2):
        histogram.observe(0.001)
    assert len(histogram.recent) == RECENT
    assert math.isnan(Histogram().percentile(0.95))


def test_render() -> None:
    metrics = EngineMetrics(placed=7, not_placed=1)
    metrics.count_outcome("busy")
    metrics.count_outcome("heard_full")
    metrics.count_outcome("busy")
    metrics.originate_latency.observe(0.02)
    text = render(
        metrics,
        in_flight=3,
        in_flight_by_campaign={'Ноябрь "2026"': 3},
        ami_connected=True,
        ami_reconnects=2,
    )
    lines = text.splitlines()
    assert 'upravdolg_calls_total{outcome="busy"} 2' in lines
    assert 'upravdolg_calls_total{outcome="heard_full"} 1' in lines
    assert "upravdolg_calls_placed_total 7" in lines and "upravdolg_calls_in_flight 3" in lines
    assert 'upravdolg_campaign_calls_in_flight{campaign="Ноябрь \\"2026\\""} 3' in lines
    assert 'upravdolg_originate_latency_seconds_bucket{le="0.025"} 1' in lines
    assert 'upravdolg_originate_latency_seconds_bucket{le="0.01"} 0' in lines
    assert 'upravdolg_originate_latency_seconds_bucket{le="+Inf"} 1' in lines
    assert "upravdolg_ami_connected 1" in lines and "upravdolg_ami_reconnects_total 2" in lines
    assert text.endswith("\n")
    assert not [line for line in lines if line.startswith("upravdolg_claim_seconds_recent{")], "no claims yet"
    for line in lines:
        assert line.startswith("#") or line.startswith("upravdolg_"), line


def test_render_the_scale_out_figures() -> None:
    metrics = EngineMetrics(adopted=3)
    for value in (0.001, 0.002, 0.003, 0.004, 0.050):
        metrics.claim_latency.observe(value)
    lines = render(
        metrics,
        in_flight=0,
        in_flight_by_campaign={},
        ami_connected=False,
        ami_reconnects=0,
        servers={"ast1": True, "ast2": False},
        trunks_down={"ast2-sim": "ast2: нет связи с AMI"},
        database_up=False,
    ).splitlines()
    assert 'upravdolg_claim_seconds_bucket{le="0.0025"} 2' in lines
    assert 'upravdolg_claim_seconds_recent{quantile="0.5"} 0.003' in lines
    assert 'upravdolg_claim_seconds_recent{quantile="0.95"} 0.05' in lines
    assert "upravdolg_calls_adopted_total 3" in lines and "upravdolg_database_up 0" in lines
    assert 'upravdolg_server_connected{server="ast1"} 1' in lines
    assert 'upravdolg_server_connected{server="ast2"} 0' in lines
    assert 'upravdolg_trunk_down{trunk="ast2-sim",reason="ast2: нет связи с AMI"} 1' in lines
