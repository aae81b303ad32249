from .warnings import at_user_call, warn

__all__ = [
    "at_user_call",
    "warn",
]
