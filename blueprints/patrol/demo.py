"""Demo patrol points and a history of check-ins."""


def seed(ctx) -> None:
    """Add patrol points and check-ins to the demo station."""
