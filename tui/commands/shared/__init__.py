"""What the command packages share; none of these modules is a command.

For the ``arguments`` modules (standard library only, so that ``--help`` starts fast): ``options`` (the
shared flags and the argparse types that check them), ``exits`` (exit statuses, one-line refusals) and
``list_arguments`` (the ``add``/``remove`` command line of ``trust`` and ``issuer``).

For the ``run`` modules: ``settings`` turns a run's flags, the user's config file and the environment
into typed :class:`~tui.commands.shared.settings.Settings`, once, and everything after that takes those;
``trail`` (the one audit line of a run), ``confirm``, ``vault_reader``, ``change_flow`` (plan, show,
confirm, apply, report), ``list_changes`` (the body of ``trust`` and ``issuer``) and ``app_runner`` (the
Textual dashboard, for ``dashboard`` and ``demo``).
"""
