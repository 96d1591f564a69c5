"""``python -m mediasync.cli``: the same command line as the ``mediasync`` script."""

from mediasync.cli.app import main

if __name__ == "__main__":
    main()
