"""Fixtures shared by the integration tests."""

from __future__ import annotations

import pytest

from storage.db.unit_of_work import UnitOfWork
from tests.integration.builders import Builder


@pytest.fixture
def build(uow: UnitOfWork) -> Builder:
    return Builder(uow)
