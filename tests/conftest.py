"""For every test: the cache of decoded arrays lives in a temporary directory, never the user's."""
from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory):
    """One cache for the session (the bundled MNIST is decoded once); tests that need their own set it."""
    old = os.environ.get("NN_TUI_CACHE_DIR")
    os.environ["NN_TUI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("NN_TUI_CACHE_DIR", None)
    else:
        os.environ["NN_TUI_CACHE_DIR"] = old
