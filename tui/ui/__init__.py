"""The Textual application: screens, modals, widgets and messages."""
