"""The Dask client a many-fit workload runs on: the user's, one at an address, or a local one.

Dask is an optional dependency (``pip install bayesmixed[scale]``), imported
only here, only when used.

Connecting to an address fails fast and says why.  ``distributed.Client``
alone does not: a refused port is retried for 30 s before a bare
``OSError``, a service that accepts the connection but never answers (an
idle HTTP server) hangs with no bound even when ``timeout=`` is given, and
one that answers with something other than Dask's protocol surfaces as an
allocation of exabytes (the first bytes read as a frame length) or a
``ValueError``.  So the address is first checked for form, then asked for
its identity over one connection bounded by a short timeout, and only a
Dask scheduler that answers is handed to ``Client``.  The timeout is 5 s,
or ``dask.config.set({"bayesmixed.connect-timeout": "30s"})``, or the
``connect_timeout`` argument of :func:`dask_client`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Iterator

from ..errors import BayesmixedError, NotSupportedError, SpecificationError
from ..validate import optional_whole_number

INSTALL_HINT = 'install it with `pip install "bayesmixed[scale]"` (or "dask[distributed]")'
CONNECT_TIMEOUT_S = 5.0
TIMEOUT_CONFIG = "bayesmixed.connect-timeout"
_CHECK = (
    "check that a Dask scheduler (`dask scheduler`) runs there and the address is the one it "
    "prints (default port 8786; the dashboard on 8787 is a web page, not the scheduler)"
)


# Our own local cluster: a task whose worker dies fails at once (the runner
# reruns it alone, see runner._run_chunks) instead of killing three more
# workers, and a worker holds only the task it runs, so a dying worker takes
# no queued bystander with it.
LOCAL_SCHEDULER = {
    "distributed.scheduler.allowed-failures": 0,
    "distributed.scheduler.worker-saturation": 1.0,
}


class SchedulerConnectionError(BayesmixedError):
    """No Dask scheduler could be reached at the address given as ``client=``."""


def distributed():
    """``dask.distributed``, or a NotSupportedError saying how to install it."""
    try:
        import dask.distributed as dd
    except ImportError as exc:
        raise NotSupportedError(
            f"many-fit workloads run through Dask, which is not installed; {INSTALL_HINT}"
        ) from exc
    return dd


@contextlib.contextmanager
def dask_client(
    client=None,
    workers: int | None = None,
    processes: bool = True,
    connect_timeout: float | None = None,
) -> Iterator:
    """Yield a Dask client: the user's, one for an address, or a fresh local cluster.

    A cluster we start is closed afterwards; a client the user gave is left open.
    An address that does not lead to a scheduler within ``connect_timeout``
    seconds raises :class:`SchedulerConnectionError`.
    """
    dd = distributed()
    if client is not None and not isinstance(client, str | dd.Client):
        raise SpecificationError(
            f"client must be a dask.distributed.Client or a scheduler address, "
            f"got {type(client).__name__}"
        )
    if isinstance(client, dd.Client):
        yield client
        return
    if isinstance(client, str):
        with connect(client, connect_timeout) as c:
            yield c
        return
    # workers=0 is a mistake, not "all cores": only None means the default
    n = optional_whole_number(workers, "workers") or os.cpu_count() or 1
    import dask

    with dask.config.set(LOCAL_SCHEDULER):
        cluster = dd.LocalCluster(
            n_workers=n,
            threads_per_worker=1,
            processes=processes,
            dashboard_address=":0",  # any free port: never clash with a running cluster
            silence_logs=40,
        )
    try:
        with dd.Client(cluster) as c:
            yield c
    finally:
        cluster.close()


def connect(address: str, timeout: float | None = None):
    """A ``Client`` for the scheduler at ``address``, checked first (see the module notes)."""
    dd = distributed()
    seconds = resolve_timeout(timeout)
    check_address(address)
    identity = probe(address, seconds)
    if identity != "Scheduler":
        raise SchedulerConnectionError(
            f"{address!r} is a Dask {identity.lower()}, not a scheduler; pass the scheduler's "
            "address (client.scheduler.address, or what `dask scheduler` prints)"
        )
    try:
        return dd.Client(address, timeout=seconds, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - any failure here is a failure to connect
        raise _error(address, seconds, exc) from exc


def resolve_timeout(timeout: float | None) -> float:
    """``timeout``, else the ``bayesmixed.connect-timeout`` Dask setting, else 5 s."""
    if timeout is None:
        import dask
        from dask.utils import parse_timedelta

        setting = dask.config.get(TIMEOUT_CONFIG, default=None)
        timeout = CONNECT_TIMEOUT_S if setting is None else parse_timedelta(setting, "s")
    seconds = float(timeout)
    if not seconds > 0:
        raise SpecificationError(f"the connect timeout must be positive, got {timeout!r}")
    return seconds


def check_address(address: str) -> None:
    """A scheduler address needs a host and a port (``tcp://10.0.0.5:8786``)."""
    from distributed.comm.addressing import get_address_host_port

    if address.startswith("inproc://"):
        return  # an in-process scheduler: no host and port to check
    try:
        get_address_host_port(address)
    except ValueError as exc:
        raise SchedulerConnectionError(
            f"client={address!r} is not a Dask scheduler address ({exc}); give the "
            "scheduler's address, e.g. 'tcp://10.0.0.5:8786', or a dask.distributed.Client"
        ) from exc


def probe(address: str, seconds: float) -> str:
    """The server's Dask identity (``Scheduler``, ``Worker``), asked within ``seconds``.

    Runs on its own thread and event loop, so it works inside Jupyter's
    running loop too, and the wait is bounded even if the thread is stuck.
    """
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["reply"] = asyncio.run(asyncio.wait_for(_identity(address, seconds), seconds))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="bayesmixed-dask-probe", daemon=True)
    thread.start()
    thread.join(seconds + 2.0)
    if "error" in box or "reply" not in box:
        raise _error(address, seconds, box.get("error"))
    reply = box["reply"]
    if not isinstance(reply, dict) or not isinstance(reply.get("type"), str):
        raise _error(address, seconds, ValueError(f"unexpected reply {str(reply)[:80]!r}"))
    return reply["type"]


async def _identity(address: str, seconds: float) -> object:
    from distributed.comm import connect as comm_connect

    comm = await comm_connect(address, timeout=seconds)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _error(address: str, seconds: float, exc: BaseException | None) -> SchedulerConnectionError:
    if exc is None or isinstance(exc, TimeoutError | OSError):
        detail = f" ({type(exc).__name__}: {str(exc)[:200]})" if exc and str(exc) else ""
        return SchedulerConnectionError(
            f"no Dask scheduler answered at {address} within {seconds:g} s{detail}; {_CHECK}, "
            f"and that no firewall blocks the port. On a slow network, wait longer with "
            f'dask.config.set({{"{TIMEOUT_CONFIG}": "30s"}})'
        )
    return SchedulerConnectionError(
        f"the service at {address} does not speak Dask's protocol "
        f"({type(exc).__name__}: {str(exc)[:200]}); {_CHECK}, and that client and scheduler "
        "run compatible Dask versions"
    )
