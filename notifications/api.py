"""API routes of this app, registered on the one ``/api/v1/`` router."""


def register(router) -> None:
    """Add this app's viewsets to ``router``."""
