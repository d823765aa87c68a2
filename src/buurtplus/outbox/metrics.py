"""The state of the outbox, read from the database when metrics are scraped (not per request):
the same figures from every process that shares the database."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from sqlalchemy import Engine, case, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col

from buurtplus.core.clock import Clock
from buurtplus.outbox.models import Delivery, DeliveryStatus, WebhookEndpoint

log = logging.getLogger("buurtplus.metrics")


class OutboxCollector:
    def __init__(self, engine: Engine, *, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "buurtplus_database_up", "1 when the database answered the metrics' queries"
        )
        try:
            figures = self._read()
        except SQLAlchemyError:
            log.warning("metrics: the database did not answer", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from figures

    def _read(self) -> list[Metric]:
        now = self._clock.now()
        enabled, status, next_attempt_at = (
            col(WebhookEndpoint.enabled),
            col(Delivery.status),
            col(Delivery.next_attempt_at),
        )
        due = next_attempt_at <= now
        deliveries = (
            select(
                enabled,
                status,
                func.count(),
                func.sum(case((due, 1), else_=0)),
                func.min(case((due, next_attempt_at), else_=None)),
            )
            .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(Delivery.endpoint_id))
            .where(status.in_([DeliveryStatus.pending, DeliveryStatus.dead]))
            .group_by(enabled, status)
        )
        endpoints = select(enabled, func.count()).group_by(enabled)
        with self._engine.connect() as connection:
            delivery_rows = connection.execute(deliveries).all()
            endpoint_rows: dict[bool, int] = dict(connection.execute(endpoints).all())

        backlog = GaugeMetricFamily(
            "buurtplus_outbox_pending_deliveries",
            "Deliveries on their way to switched-on endpoints: due now, or waiting for a retry",
            labels=["state"],
        )
        oldest = GaugeMetricFamily(
            "buurtplus_outbox_oldest_due_seconds",
            "How long the delivery that has been due longest has waited (0 when none is due)",
        )
        held = GaugeMetricFamily(
            "buurtplus_webhook_held_deliveries",
            "Deliveries kept for switched-off endpoints until they are switched on again",
        )
        dead = GaugeMetricFamily(
            "buurtplus_webhook_dead_deliveries",
            "Deliveries that ran out of attempts and are kept (until retention) for redelivery",
        )
        switched = GaugeMetricFamily(
            "buurtplus_webhook_endpoints", "Webhook endpoints, switched on or off", labels=["state"]
        )
        due_count = waiting = held_count = dead_count = 0
        oldest_due = None
        for switched_on, state, count, due_now, first_due in delivery_rows:
            if state == DeliveryStatus.dead:
                dead_count += count
            elif not switched_on:
                held_count += count
            else:
                due_count += int(due_now or 0)
                waiting += count - int(due_now or 0)
                oldest_due = first_due
        backlog.add_metric(["due"], due_count)
        backlog.add_metric(["waiting"], waiting)
        oldest.add_metric([], max(0.0, (now - oldest_due).total_seconds()) if oldest_due else 0)
        held.add_metric([], held_count)
        dead.add_metric([], dead_count)
        switched.add_metric(["on"], endpoint_rows.get(True, 0))
        switched.add_metric(["off"], endpoint_rows.get(False, 0))
        return [backlog, oldest, held, dead, switched]
