"""A real worker process runs tasks sent through the real broker."""

import os

import pytest
from celery import Celery

from incidentops.celery import app as celery_app
from incidentops.models import Heartbeat
from incidentops.tasks import heartbeat_task
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def heartbeat_seen() -> bool:
    return Heartbeat.objects.filter(name="worker").exists()


@pytest.mark.redis
def test_round_trip_through_redis(tmp_path):
    # given a worker consuming from the Redis named by REDIS_URL
    assert celery_app.conf.broker_url == os.environ["REDIS_URL"]
    with celery_worker(redis_url=os.environ["REDIS_URL"], log=tmp_path / "w.log"):
        # (a starting worker stamps one heartbeat itself; wait for it, drop it)
        assert wait_for(heartbeat_seen, timeout=60), (tmp_path / "w.log").read_text()
        Heartbeat.objects.all().delete()
        # when the project's app publishes the heartbeat task
        heartbeat_task.delay()
        # then the worker runs it against the test database
        seen = wait_for(heartbeat_seen, timeout=60)
    assert seen, (tmp_path / "w.log").read_text()


def test_round_trip_through_the_embedded_broker(tmp_path):
    broker_dir = tmp_path / "broker"
    queue = broker_dir / "queue"
    queue.mkdir(parents=True)
    # a producer configured exactly as settings do without REDIS_URL
    # not the current app: shared tasks must keep publishing through the project's
    producer = Celery(
        "producer",
        set_as_current=False,
        broker="filesystem://",
        broker_transport_options={
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "processed_folder": str(broker_dir / "processed"),
            "control_folder": str(broker_dir / "control"),
            "store_processed": False,
        },
    )
    with celery_worker(broker_dir=broker_dir, log=tmp_path / "w.log"):
        # a starting worker stamps the heartbeat at once (healthy without waiting
        # for beat's first interval)
        assert wait_for(heartbeat_seen, timeout=60), (tmp_path / "w.log").read_text()
        Heartbeat.objects.all().delete()
        producer.send_task("incidentops.tasks.heartbeat_task", serializer="json")
        seen = wait_for(heartbeat_seen, timeout=60)
    assert seen, (tmp_path / "w.log").read_text()
