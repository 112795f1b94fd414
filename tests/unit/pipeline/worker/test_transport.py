"""The worker's Faust app runs on our transport, whose consumer bounds the broker's fetch wait."""

from pipeline.settings import load_settings
from pipeline.worker import transport as kafka_transport
from pipeline.worker.app import create_app


def test_broker_url_names_every_bootstrap_server_with_our_scheme() -> None:
    assert kafka_transport.broker_url("a:9092, b:9093") == (
        "newsflow-kafka://a:9092;newsflow-kafka://b:9093")


async def test_the_worker_consumer_is_built_with_the_short_fetch_wait() -> None:
    # The app resolves the broker URL's scheme to our transport, registered on import.
    app = create_app(load_settings(kafka={"bootstrap_servers": "127.0.0.1:1"})).app
    assert isinstance(app.transport, kafka_transport.Transport)
    consumer = app.consumer._thread._create_worker_consumer(app.transport)
    try:
        # Faust's own value is 1,500 ms: the dedup agent then idled ~1.2 s per 300 records.
        assert consumer._fetch_max_wait_ms == kafka_transport.FETCH_MAX_WAIT_MS == 100
    finally:
        await consumer.stop()  # never started: closes its client without touching the network
