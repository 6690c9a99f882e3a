"""Throwaway cgroups for the sandbox: a hard cap on the memory and the number of processes of a whole sandboxed
notebook, where the system lets us create one (cgroup v2, or v1's ``memory`` and ``pids`` controllers).

``sandbox.execute_notebook`` puts the sandbox's first process into a ``Cgroup`` and empties it with SIGKILL when the
notebook ends or times out. Without write access to the cgroup tree the class does nothing and the rlimits of
``runner.apply_limits`` are the only caps.
"""

import os
import signal
import time
import uuid
from pathlib import Path


class Cgroup:
    """A throwaway cgroup (v2, or v1 ``memory`` + ``pids``) with memory and process limits, or nothing.

    Creating one needs write access to the cgroup tree (root in a container, or a delegated v2 subtree). When
    it is not possible, ``self.paths`` is empty and every method does nothing: the rlimits still apply.

    Parameters
    ----------
    memory_mb : int
        Memory limit of the whole group, in MiB (swap 0 where v2 allows it).
    max_processes : int
        Limit on the number of processes (``pids.max``).
    enabled : bool
        False creates nothing (``self.paths`` stays empty).
    """

    ROOT = Path("/sys/fs/cgroup")

    def __init__(self, memory_mb, max_processes, enabled=True):
        self.paths = []
        if not enabled:
            return
        name = f"course-sandbox-{uuid.uuid4().hex[:12]}"
        try:
            if (self.ROOT / "cgroup.controllers").exists():
                self._make_v2(name, memory_mb, max_processes)
            else:
                self._make_v1(name, memory_mb, max_processes)
        except OSError:
            self.remove()
            self.paths = []

    @staticmethod
    def _own(controller):
        """This process's cgroup path in a hierarchy.

        Parameters
        ----------
        controller : str
            The controller's name, ``""`` for the v2 unified hierarchy.

        Returns
        -------
        str
            The path, relative to the hierarchy's root.

        Raises
        ------
        OSError
            If this process is in no cgroup of that controller.
        """
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            if controller in controllers.split(","):
                return path.lstrip("/")
        raise OSError(f"no {controller} cgroup")

    def _make_v2(self, name, memory_mb, max_processes):
        path = self.ROOT / self._own("") / name
        path.mkdir()
        self.paths = [path]
        (path / "memory.max").write_text(str(memory_mb * 1024 * 1024))
        if (path / "memory.swap.max").exists():
            (path / "memory.swap.max").write_text("0")
        (path / "pids.max").write_text(str(max_processes))

    def _make_v1(self, name, memory_mb, max_processes):
        memory = self.ROOT / "memory" / self._own("memory") / name
        pids = self.ROOT / "pids" / self._own("pids") / name
        for path in (memory, pids):
            path.mkdir()
            self.paths.append(path)
        (memory / "memory.limit_in_bytes").write_text(str(memory_mb * 1024 * 1024))
        (pids / "pids.max").write_text(str(max_processes))

    def add(self, pid):
        for path in self.paths:
            (path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self):
        """True if the kernel's OOM killer killed a process of this cgroup."""
        for path in self.paths:
            for name in ("memory.events", "memory.oom_control"):
                try:
                    for line in (path / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill" and int(value) > 0:
                            return True
                except (OSError, ValueError):
                    continue
        return False

    def kill_all(self):
        """SIGKILL every process still in the cgroup (a fork bomb that outlived its parent, for example)."""
        for _ in range(50):
            pids = set()
            for path in self.paths:
                try:
                    pids.update(int(p) for p in (path / "cgroup.procs").read_text().split())
                except (OSError, ValueError):
                    continue
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def remove(self):
        self.kill_all()
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                except FileNotFoundError:
                    pass
                except OSError:  # processes are still exiting
                    time.sleep(0.02)
                    continue
                break


def cgroups_available():
    """True if this process can create the sandbox's cgroup (caps on total memory and process count)."""
    probe = Cgroup(64, 8)
    usable = bool(probe.paths)
    probe.remove()
    return usable
