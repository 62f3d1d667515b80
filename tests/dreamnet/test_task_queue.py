"""A Django-Q2 task makes the full trip through the ORM broker: enqueue, push, work, store the result."""

from __future__ import annotations

from multiprocessing import Event, Queue, Value

import pytest
from django.conf import settings
from django_q.brokers import get_broker
from django_q.models import OrmQ, Success
from django_q.monitor import monitor
from django_q.pusher import pusher
from django_q.tasks import async_task, result
from django_q.worker import worker

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_cluster_configuration_never_runs_a_task_twice_at_once():
    conf = settings.Q_CLUSTER
    assert conf["retry"] > conf["timeout"]
    assert conf["max_attempts"] >= 1


def test_a_task_round_trips_through_the_broker():
    """The ORM broker by default; the Redis broker when REDIS_URL is set."""
    broker = get_broker()
    broker.purge_queue()
    task_id = async_task("math.copysign", 3, -1, broker=broker)
    assert broker.queue_size() == 1  # queued, not run inline
    if not settings.REDIS_URL:
        assert OrmQ.objects.count() == 1

    task_queue, result_queue, stop = Queue(), Queue(), Event()
    stop.set()  # the pusher hands over what is queued, then returns
    pusher(task_queue, stop, broker=broker)
    task_queue.put("STOP")
    worker(task_queue, result_queue, Value("f", -1))
    result_queue.put("STOP")
    monitor(result_queue, broker)

    assert result(task_id) == -3.0
    assert Success.objects.filter(id=task_id).exists()
    assert broker.queue_size() == 0
