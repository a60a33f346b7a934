"""Shared fixtures: a fresh registry per test, so tests never see each other's names."""

from __future__ import annotations

import pytest

from asyncdi import Registry


@pytest.fixture
def reg() -> Registry:
    """A registry of the test's own."""
    return Registry("test")
