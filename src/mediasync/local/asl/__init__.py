"""A strict Step Functions engine for the States Language (JSONPath mode), in-process.

definition.py loads and checks a definition (what AWS would refuse is refused);
paths, templates, intrinsics and choice compile its parts once; interpreter.py runs
executions; service.py answers the Step Functions API for boto3 clients.
See docs/local-engine.md.
"""
