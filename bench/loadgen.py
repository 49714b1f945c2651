"""A bounded load generator that plays the v1 application: it inserts calls and updates configs.

Open loop: write ``k`` is due at ``start + k / rate``, whatever happened to the writes before it, and
its latency is measured from that due time (a write that waits for a free connection is late, and that
counts: no coordinated omission). Four writes in five insert a call, one in five updates a config
through v1 columns only (``name``, ``enabled``), each one statement in its own transaction, on
:data:`CONNECTIONS` connections over TCP to 127.0.0.1 (or wherever the URL points).

It is bounded: it stops by itself after ``seconds`` (at most :data:`MAX_SECONDS`), or at SIGTERM or
SIGINT, lets the writes in flight finish, and writes one JSON sample per write to ``samples_path``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg

from bench.common import bench_sql

DEFAULT_RATE = 200.0
MAX_SECONDS = 120.0  # the hard limit: the load never runs longer than this
CONNECTIONS = 8
UPDATE_EVERY = 5  # one write in five updates a config
DRAIN_SECONDS = 30.0  # how long writes in flight may take to finish after the stop


@dataclass(frozen=True)
class Sample:
    """One write: when it was due (Unix time), how long it took from then, what it was, whether it failed."""

    due: float
    latency_ms: float
    kind: str
    ok: bool
    error: str = ""


async def _write(
    k: int, due: float, wall_offset: float, pool: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]],
    targets: list[tuple[str, str]], tag: str,
) -> Sample:  # fmt: skip
    config_id, tenant_id = targets[k % len(targets)]
    kind = "update_config" if k % UPDATE_EVERY == UPDATE_EVERY - 1 else "insert_call"
    conn = await pool.get()
    error = ""
    try:
        if kind == "insert_call":
            params = {"id": f"call_load_{tag}_{k:08d}", "tenant_id": tenant_id, "config_id": config_id, "k": k}
            await conn.execute(bench_sql("load_insert_call"), params)
        else:
            await conn.execute(bench_sql("load_update_config"), {"id": config_id, "k": k})
    except psycopg.Error as exc:
        error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    finally:
        pool.put_nowait(conn)
    latency = asyncio.get_running_loop().time() - due
    return Sample(due=due + wall_offset, latency_ms=latency * 1000, kind=kind, ok=not error, error=error)


async def generate(url: str, *, rate: float, seconds: float, stop: asyncio.Event | None = None) -> list[Sample]:
    """Write at ``rate`` writes/s for ``seconds`` (at most :data:`MAX_SECONDS`) or until ``stop`` is set."""
    seconds = min(seconds, MAX_SECONDS)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    connections = [await psycopg.AsyncConnection.connect(url, autocommit=True) for _ in range(CONNECTIONS)]
    try:
        async with connections[0].cursor() as cur:
            await cur.execute(bench_sql("load_targets"))
            targets = [(str(a), str(b)) for a, b in await cur.fetchall()]
        if not targets:
            raise RuntimeError("the database has no configs to write to: seed it first")
        pool: asyncio.Queue[psycopg.AsyncConnection[tuple[object, ...]]] = asyncio.Queue()
        for conn in connections:
            pool.put_nowait(conn)
        tag = uuid.uuid4().hex[:6]
        start = loop.time()
        wall_offset = time.time() - start
        tasks: list[asyncio.Task[Sample]] = []
        k = 0
        while not stop.is_set():
            due = start + k / rate
            if due - start >= seconds:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(0.0, due - loop.time()))
            if stop.is_set():
                break
            tasks.append(asyncio.create_task(_write(k, due, wall_offset, pool, targets, tag)))
            k += 1
        done, pending = await asyncio.wait(tasks, timeout=DRAIN_SECONDS) if tasks else (set(), set())
        for task in pending:
            task.cancel()
        samples = [task.result() for task in done]
        samples += [Sample(due=0.0, latency_ms=DRAIN_SECONDS * 1000, kind="unfinished", ok=False, error="still running")
                    for _ in pending]  # fmt: skip
        return sorted(samples, key=lambda s: s.due)
    finally:
        for conn in connections:
            await conn.close()


async def _main(url: str, rate: float, seconds: float, samples_path: Path) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    samples = await generate(url, rate=rate, seconds=seconds, stop=stop)
    samples_path.write_text(json.dumps([asdict(s) for s in samples]), encoding="utf-8")


def main(url: str, *, rate: float, seconds: float, samples_path: Path) -> None:
    """Run the generator (``python -m bench loadgen``) and write its samples to ``samples_path``."""
    asyncio.run(_main(url, rate, seconds, samples_path))
