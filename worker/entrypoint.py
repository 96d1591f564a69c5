"""AWS Batch container entrypoint: copy one part group (see mediasync.worker)."""

from mediasync.worker import main

if __name__ == "__main__":
    main()
