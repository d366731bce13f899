"""Keys typed ahead reach the widget the previous key focused (``1`` then ``r``, ``/plc`` in one write).

Textual forwards each key to the widget focused when the app takes it from its queue. Keys of one
terminal write are queued together, so after ``1`` (show the Root CA pane) or ``/`` (open the filter)
the keys behind it were already on their way to the table left behind: ``r`` ran the table's bindings,
``plc`` never reached the filter box (trial, over SSH). Each widget that can hold the dashboard's focus
notes on the key that it was the target (:func:`note_target`); a key that comes back up to the app
unhandled from a widget that has lost the focus meanwhile is sent again to the widget now focused
(:func:`retarget`), in order, as if it had been typed after the focus moved.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget

_TARGET = "_aio_certs_target"


def note_target(event: events.Key, widget: Widget) -> None:
    """Remember the first widget ``event`` was delivered to."""
    if getattr(event, _TARGET, None) is None:
        setattr(event, _TARGET, widget)


def retarget(event: events.Key, focused: Widget | None) -> bool:
    """Send ``event`` again to ``focused`` when it was delivered to another widget (which lost the focus
    before the key was handled); True when it did, and the caller must drop ``event``."""
    target = getattr(event, _TARGET, None)
    if target is None or focused is None or target is focused:
        return False
    event.stop()
    event.prevent_default()
    # Forwarded, as the app forwards a key to the focused widget: when it comes back up unhandled, the
    # app checks the bindings of the focused chain instead of taking it for a new key press.
    focused._forward_event(events.Key(event.key, event.character))
    return True
