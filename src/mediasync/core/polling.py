"""When batch_invoke asks Step Functions whether a STANDARD execution has ended.

DescribeExecution has an account-wide quota (15 calls a second, burst 300 by
default) that every waiting ``batch_invoke`` shares: a call made before the copy
can have ended is wasted. So a wait first sleeps until the execution's expected
end (the scale model's figure for its plan). Past it the pauses double, starting
and capped in proportion to the expected time: an overrun is noticed within about
half of it, and a long copy that runs slow is not asked about every few seconds.
"""

from __future__ import annotations

from typing import Iterator

FIRST_POLL_DELAY = 0.05
MAX_POLL_DELAY = 5.0


def poll_delays(until_expected_end: float, expected_seconds: float) -> Iterator[float]:
    """The pauses before each DescribeExecution call of one wait (endless)."""
    if until_expected_end > 0:
        yield until_expected_end
    delay = max(FIRST_POLL_DELAY, expected_seconds / 8)
    cap = max(MAX_POLL_DELAY, expected_seconds / 2)
    while True:
        yield delay
        delay = min(delay * 2, cap)
