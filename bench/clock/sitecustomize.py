"""Imported by every Python process of a bench run given `--station-time` (bench/run.py puts this
folder first on PYTHONPATH): the process's clock runs PINGAN_BENCH_CLOCK_OFFSET seconds off the real
one (time-machine, ticking). Every process gets the same offset, so the seed, the server and the
harness agree on the time; durations (time.perf_counter, time.monotonic) are not touched."""
import os
import time

_offset = os.environ.get("PINGAN_BENCH_CLOCK_OFFSET")
if _offset:
    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
