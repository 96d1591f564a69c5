"""make install's check of each destination bucket's default encryption, before deploying.

    aws s3api get-bucket-encryption --bucket B --output json \
        | python deploy/preflight.py B "$DESTINATION_KMS_KEY_ARN"

Exits 1, naming the setting to change, when the bucket encrypts with a customer managed
KMS key the stack would not grant (src/mediasync/stack/preflight.py); an empty input
(the encryption could not be read) passes with a note. Standard library only.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mediasync.stack.preflight import default_key_problem


def main(argv: list[str]) -> int:
    bucket, granted = argv[1], argv[2] if len(argv) > 2 else ""
    text = sys.stdin.read().strip()
    if not text:
        print(f"note: could not read the default encryption of {bucket}; not checked", file=sys.stderr)
        return 0
    problem = default_key_problem(bucket, json.loads(text), granted)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
