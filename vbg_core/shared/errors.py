"""Typed, actionable errors. Library code raises these; only the edges (the CLI's
main, the OBS filter) catch them and turn them into one line for a person."""


class VbgError(Exception):
    """An error a user can cause and fix; its message says what and how."""


class SettingsError(VbgError, ValueError):
    """A setting has an invalid value (colour, mode, fit, blur level, ...)."""


class MediaError(VbgError):
    """An input or background file is missing, unreadable or corrupt."""


class ModelError(VbgError):
    """A model file is missing or corrupt, or no inference session can be made."""


class OutputError(VbgError):
    """An output cannot be written: it would replace an input, or its folder or disk refuses it."""
