"""client= addresses that lead nowhere fail fast with a BayesmixedError (issue 19, item 9).

Before: a refused port gave a bare OSError after 30 s, a service that
accepts and stays silent hung for minutes, an HTTP server gave a
MemoryError for exabytes, random bytes a ValueError, and a malformed
address a ValueError.  Each fake service here listens on 127.0.0.1 only,
answers a bounded number of connections and stops by itself.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time

import pytest

import bayesmixed as bm
from bayesmixed.resampling import bootstrap
from bayesmixed.resampling.runner import SchedulerConnectionError, run_replicates

pytest.importorskip("dask.distributed")

BOUND_S = 15  # generous: these used to take 30 s to forever


def _value(shared, rng):
    return shared


@contextlib.contextmanager
def fake_service(kind: str):
    """A loopback TCP server that speaks ``kind``: http, garbage or silent."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline and len(conns) < 8:
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conns.append(conn)
            with contextlib.suppress(OSError):
                if kind == "http":
                    conn.settimeout(2)
                    conn.recv(4096)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                elif kind == "garbage":
                    conn.sendall(os.urandom(4096))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in conns:
            conn.close()
        server.close()


def _fails_fast(address: str, match: str, **kw) -> SchedulerConnectionError:
    start = time.monotonic()
    with pytest.raises(SchedulerConnectionError, match=match) as info:
        run_replicates(_value, 1, 2, seed=1, client=address, progress=False, **kw)
    assert time.monotonic() - start < BOUND_S
    assert isinstance(info.value, bm.BayesmixedError)
    assert address in str(info.value)
    return info.value


@pytest.mark.parametrize("kind", ["http", "garbage"])
def test_a_service_that_is_not_dask_is_a_clean_error(kind):
    with fake_service(kind) as address:
        _fails_fast(address, "scheduler")


def test_a_silent_service_times_out():
    with fake_service("silent") as address:
        err = _fails_fast(address, "within 2 s", connect_timeout=2)
    assert "bayesmixed.connect-timeout" in str(err)


def test_a_refused_port_fails_within_the_timeout():
    _fails_fast("tcp://127.0.0.1:1", "no Dask scheduler answered", connect_timeout=2)


def test_the_timeout_is_a_dask_setting():
    import dask

    with dask.config.set({"bayesmixed.connect-timeout": "1s"}):
        _fails_fast("tcp://127.0.0.1:1", "within 1 s")


def test_a_malformed_address_names_the_expected_form():
    _fails_fast("not a scheduler", "tcp://")


def test_bootstrap_passes_the_error_through(ri):
    with pytest.raises(SchedulerConnectionError, match="127.0.0.1:1"):
        bootstrap(ri, n=2, client="tcp://127.0.0.1:1", progress=False)


def test_a_scheduler_address_works_and_a_worker_address_is_refused():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=":0"
    ) as cluster:
        out = run_replicates(_value, 7, 3, seed=1, client=cluster.scheduler_address, progress=False)
        assert [o.value for o in out] == [7, 7, 7]
        worker = next(iter(cluster.workers.values())).address
        _fails_fast(worker, "is a Dask worker, not a scheduler")
