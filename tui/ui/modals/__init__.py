"""Typed modal screens: the preview and the help."""
