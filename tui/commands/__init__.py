"""One module per command-line subcommand (see tui/cli.py for the contract)."""
