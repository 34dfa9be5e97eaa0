"""Qt-free access to the lowrouter platform HTTP API."""

from .client import LowrouterClient, RetryPolicy
from .errors import ApiError
from .urls import DEFAULT_BASE_URL, normalize_base_url

__all__ = ["ApiError", "DEFAULT_BASE_URL", "LowrouterClient", "RetryPolicy", "normalize_base_url"]
