"""Ctrl-C during sampling stops the fit instead of returning a cut-short posterior.

PyMC catches ``KeyboardInterrupt`` inside ``pm.sample`` (sequential and parallel
chains alike) and returns the draws made so far as if sampling had finished: 1,417 of
20,000 draws came back as a normal result, a do-file run went on and wrote a report
marked done.  A user who presses Ctrl-C means *stop*, so :func:`watch_interrupts`
notes a SIGINT that arrives while the sampler runs, and re-raises ``KeyboardInterrupt``
once the sampler returns -- or when it returns fewer chains or draws than requested,
which also covers samplers that swallow the interrupt where we cannot see the signal
(nutpie, JAX, a sampler run outside the main thread).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# PyMC's error when it was interrupted before the first kept draw (still tuning); its
# ``_choose_chains`` is reached with no draws only after a KeyboardInterrupt
EMPTY_TRACE = "Not enough samples to build a trace"


@dataclass
class Watch:
    """What :func:`watch_interrupts` saw; :meth:`checked` passes on only a complete trace."""

    draws: int
    chains: int
    interrupted: bool = False

    def checked(self, tree):
        """``tree``, unless sampling was interrupted or came back short.

        Raises
        ------
        KeyboardInterrupt
            A SIGINT arrived while sampling, or the posterior holds fewer chains or
            draws than were asked for.
        """
        chains, draws = posterior_size(tree)
        if self.interrupted or chains < self.chains or draws < self.draws:
            raise KeyboardInterrupt(
                f"sampling interrupted: {draws:,} of {self.draws:,} draws in "
                f"{chains} of {self.chains} chains; the partial posterior was discarded"
            )
        return tree


def posterior_size(tree) -> tuple[int, int]:
    """(chains, draws) of ``tree``'s posterior group; (0, 0) when it has none."""
    try:
        sizes = tree["posterior"].sizes
        return int(sizes.get("chain", 1)), int(sizes.get("draw", 0))
    except (KeyError, AttributeError, TypeError):
        return 0, 0


@contextmanager
def watch_interrupts(draws: int, chains: int) -> Iterator[Watch]:
    """Note a SIGINT while the block runs; an error it causes becomes the interrupt.

    So does PyMC's :data:`EMPTY_TRACE` error, which only an interrupt during tuning
    causes, also when no signal was seen (an interrupt raised in a callback or thread).

    The previous SIGINT handler still runs (Python's raises ``KeyboardInterrupt``,
    which the sampler then swallows), so nothing changes for code that handles it.
    Outside the main thread, or when SIGINT is ignored, only the size check applies.
    """
    watch = Watch(draws=draws, chains=chains)
    previous = signal.getsignal(signal.SIGINT)
    install = threading.current_thread() is threading.main_thread() and callable(previous)
    if install:

        def note(signum, frame) -> None:
            watch.interrupted = True
            previous(signum, frame)

        signal.signal(signal.SIGINT, note)
    try:
        yield watch
    except Exception as err:
        if watch.interrupted or EMPTY_TRACE in str(err):
            raise KeyboardInterrupt("sampling interrupted") from err
        raise
    finally:
        if install:
            signal.signal(signal.SIGINT, previous)
