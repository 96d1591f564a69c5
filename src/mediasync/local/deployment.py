"""What a local deployment is called and where its parts come from: the names the
ASL files' substitutions take, the state machines, the handlers' directories.

Shared by the runtime and both engines it can run (native.py, moto_engine.py).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

ACCOUNT_ID = "123456789012"

# Substitution key in the ASL files -> handler directory under functions/.
# template.yaml's DefinitionSubstitutions use the same keys (a test checks).
FUNCTION_SUBSTITUTIONS = {
    "InspectSourceFunctionArn": "inspect_source",
    "CopyObjectFunctionArn": "copy_object",
    "CreateUploadFunctionArn": "create_upload",
    "CopyPartsFunctionArn": "copy_parts",
    # The EXPRESS machine's copy_parts: the same handler under a shorter Timeout.
    "CopyPartsExpressFunctionArn": "copy_parts",
    "CompleteUploadFunctionArn": "complete_upload",
    "VerifyCopyFunctionArn": "verify_copy",
    "AbortUploadFunctionArn": "abort_upload",
}
BATCH_SUBSTITUTIONS = ("WorkerJobQueueArn", "WorkerJobDefinitionName")
# The ARN partition of the service integrations (arn:${Partition}:states:::lambda:invoke).
PARTITION_SUBSTITUTION = "Partition"
LOCAL_PARTITION = "aws"
STATE_MACHINES = {
    # name: (file, type, settings variable naming its ARN)
    "copy_small": ("copy_small.asl.json", "EXPRESS", "MEDIASYNC_EXPRESS_STATE_MACHINE_ARN"),
    "copy_large": ("copy_large.asl.json", "STANDARD", "MEDIASYNC_STANDARD_STATE_MACHINE_ARN"),
}
BATCH_INVOKE_FUNCTION = "batch_invoke"
FUNCTION_PREFIX = "mediasync-"


def project_root() -> Path:
    """The directory holding statemachine/ and functions/ (the repository)."""
    candidates = [os.environ.get("MEDIASYNC_PROJECT_ROOT"), *Path(__file__).resolve().parents, Path.cwd()]
    for candidate in candidates:
        if candidate and (Path(candidate) / "statemachine").is_dir() and (Path(candidate) / "functions").is_dir():
            return Path(candidate)
    raise RuntimeError(
        "cannot find statemachine/ and functions/: run from the MediaSync repository "
        "or set MEDIASYNC_PROJECT_ROOT to it"
    )


def load_handler(root: Path, name: str) -> Callable[[Any, Any], Any]:
    path = root / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(f"mediasync_function_{name}", path)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load handler {path}")
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.lambda_handler


def substitute(path: Path, substitutions: dict[str, str]) -> str:
    """Fill ``${Name}`` placeholders as CloudFormation's DefinitionSubstitutions does."""
    text = path.read_text()
    for key, value in substitutions.items():
        text = text.replace("${" + key + "}", value)
    if "${" in text:
        missing = sorted({part.split("}")[0] for part in text.split("${")[1:]})
        raise RuntimeError(f"{path.name}: no substitution for {', '.join(missing)}")
    return text
