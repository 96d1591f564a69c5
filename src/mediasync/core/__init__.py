"""What runs on AWS: the Lambda handlers (functions/*/app.py, through the layer) and
the AWS Batch worker image import this package and nothing else of mediasync.

Copy planning, S3 calls, verification, the Step Functions state handlers
(steps), the S3 Batch Operations task (s3batch_task), the AWS Batch worker
(awsbatch_worker), settings, clients and errors. Modules here import only the
standard library, boto3/botocore, Powertools and each other
(tests/unit/test_import_contract.py).
"""
