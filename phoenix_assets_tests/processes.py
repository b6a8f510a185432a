"""Stopping what a test started in a session of its own (``start_new_session=True``)."""

import os
import signal
import subprocess
from typing import Any


def stop_process_group(
    process: subprocess.Popen[Any], first: signal.Signals, timeout: float
) -> None:
    """Send ``first`` to the process's whole group; SIGKILL the group if the process has
    not exited ``timeout`` seconds later."""
    os.killpg(process.pid, first)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
