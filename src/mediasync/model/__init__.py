"""What a copy job will do, cost and take on AWS: a pure model (see estimate.py).

workload -> requests -> usage -> cost and wall_time -> estimate; scale generates
docs/performance.md's scale table, rates the block of the rates at both ends with
their sources and ranges, and reads and writes rates files (the model's only I/O);
regions holds Step Functions quotas by Region, calibration the fit of
``mediasync calibrate``'s timings. Per-execution timing and the rates and quotas it
rests on are in mediasync.core.timing, because batch_invoke waits by them.
"""
