"""The command-line commands: one package per command, plus ``shared`` (helpers, not a command).

Each command package holds three modules:

``__init__``
    the command's docstring, whose first line ``aio-certs COMMAND --help`` shows as its description;
``arguments``
    ``add_arguments(parser)`` and the ``EPILOG`` help text. Standard library only: ``tui/cli.py``
    registers every command's arguments to build the parser, and ``aio-certs --help`` must start fast;
``run``
    ``run(args) -> int``. It imports what the command needs at the top, and ``tui/cli.py`` imports it only
    when that command runs. It turns the parsed arguments into typed
    :class:`~tui.commands.shared.settings.Settings` once; nothing below it sees the argparse Namespace.

``tests/unit/test_layering.py`` checks that ``--help`` loads no heavy library.
"""
