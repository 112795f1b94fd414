"""Faust's aiokafka transport, with a broker fetch wait short enough for one busy partition.

Faust builds its worker consumer with `fetch_max_wait_ms=1500`, which it hard-codes. aiokafka keeps
at most one fetch in flight per broker, and that fetch leaves out any partition whose records are
still being processed. So while the dedup agent works through a batch, the next fetch asks only
for the idle partitions (such as `articles` when no poller is writing). The broker holds that fetch
for the full wait. When the batch is done, the dedup partition can't be fetched again until the
held fetch returns. On the one-broker stack this idled the agent for about 1.2 s after every 300
records: 183-197 verdicts/s, and 675-734 with this transport alone (bench/RESULTS.md, "Found:
Faust's hard-coded 1.5 s fetch wait").

Importing this module registers it as Faust transport `newsflow-kafka` (`broker_url` builds the
URL). Registering in code, rather than through a `faust.transports` entry point, works in any
environment that can import `pipeline`, installed or not. Everything else is Faust's aiokafka
driver.
"""

from __future__ import annotations

from typing import Any

import aiokafka
from faust.transport.drivers import TRANSPORTS
from faust.transport.drivers import aiokafka as faust_aiokafka

SCHEME = "newsflow-kafka"
# An idle worker then sends ten small fetches a second; a busy partition waits at most this long.
FETCH_MAX_WAIT_MS = 100


class ConsumerThread(faust_aiokafka.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> aiokafka.AIOKafkaConsumer:
        consumer = super()._create_worker_consumer(transport)
        # aiokafka reads it when the consumer starts and builds its fetcher.
        consumer._fetch_max_wait_ms = FETCH_MAX_WAIT_MS
        return consumer


class Consumer(faust_aiokafka.Consumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)


class Transport(faust_aiokafka.Transport):
    Consumer = Consumer


def broker_url(bootstrap_servers: str) -> str:
    """Faust's broker setting for a comma-separated bootstrap list."""
    return ";".join(f"{SCHEME}://{server.strip()}" for server in bootstrap_servers.split(","))


TRANSPORTS.aliases[SCHEME] = f"{__name__}:Transport"
