"""Tests of the dashboard (tui.ui): pure logic, pilot tests, snapshots, the real demo path, tmux."""
