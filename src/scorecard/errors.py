"""Errors that carry one plain sentence for the person who caused them."""


class ScorecardError(Exception):
    """An error whose message is a complete, plain sentence fit to show a user as it is."""


class StoreBusy(ScorecardError):
    """Another process holds the store and did not let go in time."""


class BadInput(ScorecardError):
    """A file, map or setting that cannot be used; nothing of it was stored."""
