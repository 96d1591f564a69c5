"""What a copy job will do, cost and take on AWS: a pure model, no I/O (see estimate.py).

workload -> requests -> usage -> cost and wall_time -> estimate; scale generates
docs/performance.md. Per-execution timing and the rates and quotas it rests on are
in mediasync.core.timing, because batch_invoke waits by them.
"""
