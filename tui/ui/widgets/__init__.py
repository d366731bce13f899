"""Widgets of the dashboard: the header, the three panes and the keyed table they share."""
