"""Races for concurrency tests: work started in several threads at once."""

import threading

from django.db import close_old_connections, connection


def race(work, threads: int) -> list:
    """Run ``work(i)`` in ``threads`` threads released at once; collect what
    each returned or raised, in thread order."""
    barrier = threading.Barrier(threads)
    outcomes: list = [None] * threads

    def run(i):
        try:
            barrier.wait()
            outcomes[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            outcomes[i] = exc
        finally:
            connection.close()

    started = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    close_old_connections()
    return outcomes
