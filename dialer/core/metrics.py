"""The engine's counters and their Prometheus text exposition (pure; format 0.0.4).

Bounded whatever the campaign's length: histograms keep bucket counts, a sum and a count, plus the last
``RECENT`` observations for percentiles in the benchmarks.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

RECENT = 10_000
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CLAIM_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


@dataclass
class Histogram:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=list)
    total: float = 0.0
    count: int = 0
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=RECENT))

    def __post_init__(self) -> None:
        if not self.counts:
            self.counts = [0] * len(self.buckets)

    def observe(self, value: float) -> None:
        self.total += value
        self.count += 1
        self.recent.append(value)
        for index, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[index] += 1

    def percentile(self, share: float) -> float:
        """Of the recent observations (nearest rank); NaN when there are none."""
        if not self.recent:
            return math.nan
        ordered = sorted(self.recent)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class EngineMetrics:
    outcomes: dict[str, int] = field(default_factory=dict)
    placed: int = 0
    not_placed: int = 0
    max_in_flight: int = 0
    originate_latency: Histogram = field(default_factory=Histogram)  # Originate sent → accepted
    refill_latency: Histogram = field(default_factory=Histogram)  # a channel freed → the next Originate
    # the claim transaction, locks included (docs/scale-out.md): its wait grows with contention
    claim_latency: Histogram = field(default_factory=lambda: Histogram(CLAIM_BUCKETS))
    adopted: int = 0  # live calls taken over from workers whose lease ran out

    def count_outcome(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1


def _labels(pairs: Mapping[str, str]) -> str:
    if not pairs:
        return ""
    inner = ",".join(
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34)).replace(chr(10), "")}"'
        for k, v in pairs.items()
    )
    return "{" + inner + "}"


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def _histogram(name: str, help_text: str, histogram: Histogram) -> Iterable[str]:
    yield f"# HELP {name} {help_text}"
    yield f"# TYPE {name} histogram"
    for bound, count in zip(histogram.buckets, histogram.counts, strict=True):
        yield f'{name}_bucket{{le="{_number(bound)}"}} {count}'
    yield f'{name}_bucket{{le="+Inf"}} {histogram.count}'
    yield f"{name}_sum {_number(histogram.total)}"
    yield f"{name}_count {histogram.count}"


def render(
    metrics: EngineMetrics,
    *,
    in_flight: int,
    in_flight_by_campaign: Mapping[str, int],
    ami_connected: bool,
    ami_reconnects: int,
    servers: Mapping[str, bool] | None = None,
    trunks_down: Mapping[str, str] | None = None,
    database_up: bool = True,
) -> str:
    lines = [
        "# HELP upravdolg_calls_total Calls that ended, by outcome.",
        "# TYPE upravdolg_calls_total counter",
    ]
    lines += [
        f"upravdolg_calls_total{_labels({'outcome': k})} {v}" for k, v in sorted(metrics.outcomes.items())
    ]
    lines += [
        "# HELP upravdolg_calls_placed_total Originates Asterisk accepted.",
        "# TYPE upravdolg_calls_placed_total counter",
        f"upravdolg_calls_placed_total {metrics.placed}",
        "# HELP upravdolg_calls_not_placed_total Claimed calls Asterisk did not accept (AMI down, refused).",
        "# TYPE upravdolg_calls_not_placed_total counter",
        f"upravdolg_calls_not_placed_total {metrics.not_placed}",
        "# HELP upravdolg_calls_in_flight Calls in progress.",
        "# TYPE upravdolg_calls_in_flight gauge",
        f"upravdolg_calls_in_flight {in_flight}",
        "# HELP upravdolg_campaign_calls_in_flight Calls in progress per campaign.",
        "# TYPE upravdolg_campaign_calls_in_flight gauge",
    ]
    lines += [
        f"upravdolg_campaign_calls_in_flight{_labels({'campaign': k})} {v}"
        for k, v in sorted(in_flight_by_campaign.items())
    ]
    lines += _histogram(
        "upravdolg_originate_latency_seconds",
        "From sending an Originate to Asterisk accepting it.",
        metrics.originate_latency,
    )
    lines += _histogram(
        "upravdolg_channel_refill_seconds",
        "From a channel freed to the next Originate of its campaign.",
        metrics.refill_latency,
    )
    lines += [
        "# HELP upravdolg_ami_connected 1 when the AMI session is up.",
        "# TYPE upravdolg_ami_connected gauge",
        f"upravdolg_ami_connected {1 if ami_connected else 0}",
        "# HELP upravdolg_ami_reconnects_total AMI reconnections after a lost session.",
        "# TYPE upravdolg_ami_reconnects_total counter",
        f"upravdolg_ami_reconnects_total {ami_reconnects}",
    ]
    lines += _histogram(
        "upravdolg_claim_seconds",
        "The claim transaction (shared limits under row locks), from start to commit.",
        metrics.claim_latency,
    )
    lines += [
        "# HELP upravdolg_claim_seconds_recent The claim transaction's quantiles over the recent claims.",
        "# TYPE upravdolg_claim_seconds_recent gauge",
    ]
    claims = metrics.claim_latency
    lines += [
        f'upravdolg_claim_seconds_recent{{quantile="{q}"}} {_number(claims.percentile(float(q)))}'
        for q in ("0.5", "0.95", "0.99")
        if claims.recent
    ]
    lines += [
        "# HELP upravdolg_calls_adopted_total Live calls taken over from workers whose lease ran out.",
        "# TYPE upravdolg_calls_adopted_total counter",
        f"upravdolg_calls_adopted_total {metrics.adopted}",
        "# HELP upravdolg_database_up 1 while the database answers.",
        "# TYPE upravdolg_database_up gauge",
        f"upravdolg_database_up {1 if database_up else 0}",
        "# HELP upravdolg_server_connected 1 while the AMI link to the server is up and reconciled.",
        "# TYPE upravdolg_server_connected gauge",
    ]
    lines += [
        f"upravdolg_server_connected{_labels({'server': k})} {int(v)}"
        for k, v in sorted((servers or {}).items())
    ]
    lines += [
        "# HELP upravdolg_trunk_down 1 for a trunk this worker skips (server away, calls failing).",
        "# TYPE upravdolg_trunk_down gauge",
    ]
    lines += [
        f"upravdolg_trunk_down{_labels({'trunk': k, 'reason': v})} 1"
        for k, v in sorted((trunks_down or {}).items())
    ]
    return "\n".join(lines) + "\n"
