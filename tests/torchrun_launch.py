"""Launching ``torchrun`` from tests: CPU workers (gloo), a free rendezvous port per attempt,
a hard timeout that kills the workers too, and one retry.

The retry: in 2 of 5 full-suite runs on a 2-core machine (never alone) one worker died of
SIGABRT with no Python error, cause not found. A fresh port and a clean slate keep that
from failing CI; a real breakage fails both attempts.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys

import pytest


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(args: list[str], *, nproc: int = 2, timeout: float = 120, before_retry=None):
    """``torchrun --nproc_per_node nproc ARGS`` -> ``(returncode, stdout, stderr)``.
    ``before_retry()`` cleans up what a failed first attempt left."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "COLUMNS": "200"}
    for attempt in range(2):
        cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc),
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()), *args]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                start_new_session=True)  # its own process group: a hang kills the workers too
        try:
            stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            stdout, stderr = proc.communicate()
            pytest.fail("torchrun timed out:\n" + stdout[-2000:] + stderr[-2000:])
        if proc.returncode == 0 or attempt == 1:
            break
        print(f"torchrun attempt 1 failed (exit {proc.returncode}); retrying:\n{stderr[-1500:]}")
        if before_retry is not None:
            before_retry()
    return proc.returncode, stdout, stderr
