"""Events the core announces — a migration ended, a flag changed, a restore ran — and who hears them.

The core never talks to Slack or e-mail itself: it calls :func:`emit` with ``(kind, message,
details)``, and whatever subscribed hears it. The ``voice-migration`` CLI subscribes the
configured notification channels (:func:`voice_migration.infra.notify.send_notification`); a
Python caller who wants the same does ``events.subscribe(send_notification)``, and a test
subscribes a list's ``append``. With no subscriber an event is only logged (at debug level).

A listener that raises is logged and skipped: announcing an event never fails the operation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

log = logging.getLogger(__name__)

Listener = Callable[[str, str, Mapping[str, object]], None]
"""``(kind, message, details)``: the signature of ``voice_migration.infra.notify.send_notification``."""

_listeners: list[Listener] = []
_lock = threading.Lock()


def subscribe(listener: Listener) -> None:
    """Have ``listener`` hear every event from now on (subscribing the same listener twice is a no-op)."""
    with _lock:
        if listener not in _listeners:
            _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    """Stop ``listener`` hearing events (a no-op if it never subscribed)."""
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Subscribe ``listener`` for the duration of a ``with`` block."""
    subscribe(listener)
    try:
        yield
    finally:
        unsubscribe(listener)


def emit(kind: str, message: str, details: Mapping[str, object]) -> None:
    """Announce an event to every listener; never raises."""
    with _lock:
        listeners = list(_listeners)
    log.debug("event %s: %s", kind, message)
    for listener in listeners:
        try:
            listener(kind, message, details)
        except Exception:  # an event is a courtesy, never a step of the operation (module docstring)
            log.warning("a listener of event %s failed; the operation itself is unaffected", kind, exc_info=True)
