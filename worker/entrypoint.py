"""AWS Batch container entrypoint: copy one part group (see mediasync.core.awsbatch_worker)."""

from mediasync.core.awsbatch_worker import main

if __name__ == "__main__":
    main()
