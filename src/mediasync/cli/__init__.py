"""The ``mediasync`` command line, one module per command (``app.py`` groups them).

Only this package (and the tests) may import :mod:`mediasync.local`; nothing imports
this package: tests/unit/test_import_contract.py checks both.
"""

from mediasync.cli.app import main

__all__ = ["main"]
