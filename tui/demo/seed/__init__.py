"""The objects and secrets the demo site starts with, generated deterministically at start-up."""
