"""Error names and the rules for matching them in Retry and Catch.

https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html
"""

from __future__ import annotations

from typing import Any

ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
BRANCH_FAILED = "States.BranchFailed"
PERMISSIONS = "States.Permissions"
ITEM_READER_FAILED = "States.ItemReaderFailed"
RESULT_WRITER_FAILED = "States.ResultWriterFailed"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"

# The States.* names a definition may list in ErrorEquals.
KNOWN = frozenset({
    ALL, TASK_FAILED, TIMEOUT, HEARTBEAT_TIMEOUT, RUNTIME, DATA_LIMIT_EXCEEDED, NO_CHOICE_MATCHED,
    RESULT_PATH_MATCH_FAILURE, PARAMETER_PATH_FAILURE, INTRINSIC_FAILURE, EXCEED_TOLERATED_FAILURE_THRESHOLD,
    BRANCH_FAILED, PERMISSIONS, ITEM_READER_FAILED, RESULT_WRITER_FAILED, QUERY_EVALUATION_ERROR,
    "States.Http.Socket",
})

# "States.ALL ... can't catch the States.DataLimitExceeded terminal error or Runtime error
# types"; a States.Runtime error "will always cause the execution to fail": no retrier or
# catcher sees these, whatever it lists.
TERMINAL = frozenset({RUNTIME, DATA_LIMIT_EXCEEDED})


class StatesError(Exception):
    """An error as Step Functions reports it: a name and, not always, a cause."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause is not None else error)
        self.error = error
        self.cause = cause

    def output(self) -> dict[str, Any]:
        """The error output a catcher's ResultPath places (no Cause when there is none)."""
        return {"Error": self.error} if self.cause is None else {"Error": self.error, "Cause": self.cause}

    @property
    def terminal(self) -> bool:
        return self.error in TERMINAL


def runtime_error(cause: str) -> StatesError:
    return StatesError(RUNTIME, cause)


def matches(error_equals: tuple[str, ...], error: str) -> bool:
    """Whether a retrier's or catcher's ErrorEquals takes this error.

    Names match exactly; States.ALL matches any error but the terminal ones, and
    States.TaskFailed any but States.Timeout (and the terminal ones).
    """
    if error in TERMINAL:
        return False
    for name in error_equals:
        if name == error or name == ALL or (name == TASK_FAILED and error != TIMEOUT):
            return True
    return False


class DefinitionError(ValueError):
    """A definition AWS would refuse (CreateStateMachine answers InvalidDefinition), or one
    using a feature this engine does not run: refused here too, never half-run."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}" if where else problem)
        self.where = where
        self.problem = problem
