"""What the dashboard shows, computed without Textual: cells, columns, rows, filtering, formats,
severity levels, previews, staging, connection states, terminal settings. Widgets render these."""
