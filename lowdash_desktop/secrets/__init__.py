"""Secret storage behind one interface."""

from .keystore import KeyStore

__all__ = ["KeyStore"]
