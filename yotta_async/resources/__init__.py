"""API resources: one class per API noun."""

from .pods import Pods

__all__ = ["Pods"]
