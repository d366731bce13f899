"""Allow ``python -m tui``."""

from tui.cli import entry

if __name__ == "__main__":
    entry()
