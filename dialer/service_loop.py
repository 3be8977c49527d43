"""The event loop the long-running services (``upravdolg run``, the demo, the benchmarks) run on: uvloop.

uvloop (libuv) does the work of asyncio's selector loop with less CPU per wake-up, and the dialer wakes up
many times per call (AMI events, the FastAGI session, the database thread handing back results). Nothing
in our code depends on which loop runs it: the in-process tests run the engine on asyncio's own loop, and
the tests that start ``upravdolg run`` as a process run it on this one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def run_service(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a uvloop loop."""
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)
