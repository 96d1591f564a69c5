# AWS targets, included by the Makefile: install (sam build + deploy), publish
# (worker image to ECR), outputs (for the S3 Batch console, and the policy a
# source account grants), clean (delete the stack and its image repository).
#
# Settings come from $(MEDIASYNC_CONFIG) (copy deploy/config.example.env), the
# environment, or the command line: make install STACK_NAME=media-prod.

MEDIASYNC_CONFIG ?= deploy/config.env
-include $(MEDIASYNC_CONFIG)

STACK_NAME ?= mediasync
AWS_REGION ?=
SOURCE_BUCKETS ?=
DESTINATION_BUCKET ?=
ALLOWED_DESTINATION_BUCKETS ?=
DESTINATION_PREFIX ?=
STRIP_PREFIX ?=
SOURCE_REQUESTER_PAYS ?= false
STORAGE_CLASS ?=
DESTINATION_ACL ?=
REPORT_BUCKET ?=
MANIFEST_BUCKET ?=
MULTIPART_THRESHOLD ?= 256MiB
PART_SIZE ?= 64MiB
PARTS_PER_GROUP ?= 16
WORKER_MODE ?= lambda
BATCH_THRESHOLD ?= 500GiB
BATCH_PARTS_PER_GROUP ?= 100
MAX_CONCURRENCY ?= 100
WORKER_SUBNETS ?=
WORKER_SECURITY_GROUPS ?=
WORKER_ASSIGN_PUBLIC_IP ?= ENABLED
WORKER_MAX_VCPUS ?= 256
WORKER_IMAGE_TAG ?= latest
SOURCE_KMS_KEY_ARNS ?=
DESTINATION_KMS_KEY_ARN ?=
DESTINATION_BUCKET_KEY_ENABLED ?=
LOG_RETENTION_DAYS ?= 30
FAILURE_RATE_ALARM_PERCENT ?= 5
ALARM_TOPIC_ARN ?=
BATCH_INVOKE_RESERVED_CONCURRENCY ?= 0
ALLOW_SOURCE_DELETES ?= false
OBJECT_LOCK ?= off

SAM ?= sam
# sam build needs python3.12 on PATH; without it: SAM_BUILD_FLAGS=--use-container (Docker).
SAM_BUILD_FLAGS ?=
AWS ?= aws
DOCKER ?= docker
# make outputs runs a stdlib-only script: the venv's Python when there is one.
DEPLOY_PYTHON ?= $(if $(wildcard $(BIN)/python),$(BIN)/python,python3)

REGION_ARG = $(if $(AWS_REGION),--region $(AWS_REGION))
# Every parameter, every time: sam deploy would otherwise keep a previous value.
PARAMETER_OVERRIDES = \
	'SourceBuckets="$(SOURCE_BUCKETS)"' \
	'DestinationBucket="$(DESTINATION_BUCKET)"' \
	'AllowedDestinationBuckets="$(ALLOWED_DESTINATION_BUCKETS)"' \
	'DestinationPrefix="$(DESTINATION_PREFIX)"' \
	'StripPrefix="$(STRIP_PREFIX)"' \
	'SourceRequesterPays="$(SOURCE_REQUESTER_PAYS)"' \
	'StorageClass="$(STORAGE_CLASS)"' \
	'DestinationAcl="$(DESTINATION_ACL)"' \
	'ReportBucket="$(REPORT_BUCKET)"' \
	'ManifestBucket="$(MANIFEST_BUCKET)"' \
	'MultipartThreshold="$(MULTIPART_THRESHOLD)"' \
	'PartSize="$(PART_SIZE)"' \
	'PartsPerGroup="$(PARTS_PER_GROUP)"' \
	'WorkerMode="$(WORKER_MODE)"' \
	'BatchThreshold="$(BATCH_THRESHOLD)"' \
	'BatchPartsPerGroup="$(BATCH_PARTS_PER_GROUP)"' \
	'MaxConcurrency="$(MAX_CONCURRENCY)"' \
	'WorkerSubnets="$(WORKER_SUBNETS)"' \
	'WorkerSecurityGroups="$(WORKER_SECURITY_GROUPS)"' \
	'WorkerAssignPublicIp="$(WORKER_ASSIGN_PUBLIC_IP)"' \
	'WorkerMaxVcpus="$(WORKER_MAX_VCPUS)"' \
	'WorkerImageTag="$(WORKER_IMAGE_TAG)"' \
	'SourceKmsKeyArns="$(SOURCE_KMS_KEY_ARNS)"' \
	'DestinationKmsKeyArn="$(DESTINATION_KMS_KEY_ARN)"' \
	'DestinationBucketKeyEnabled="$(DESTINATION_BUCKET_KEY_ENABLED)"' \
	'LogRetentionDays="$(LOG_RETENTION_DAYS)"' \
	'FailureRateAlarmPercent="$(FAILURE_RATE_ALARM_PERCENT)"' \
	'AlarmTopicArn="$(ALARM_TOPIC_ARN)"' \
	'BatchInvokeReservedConcurrency="$(BATCH_INVOKE_RESERVED_CONCURRENCY)"' \
	'AllowSourceDeletes="$(ALLOW_SOURCE_DELETES)"' \
	'ObjectLock="$(OBJECT_LOCK)"'

# $(call stack_output,Name): one output of the deployed stack ("None" if absent).
stack_output = $(AWS) cloudformation describe-stacks $(REGION_ARG) --stack-name $(STACK_NAME) \
	--query "Stacks[0].Outputs[?OutputKey=='$(1)'].OutputValue | [0]" --output text

comma := ,
need = @command -v $(1) >/dev/null 2>&1 || { echo "$(1) not found: $(2)" >&2; exit 1; }

# With subnets the stack deploys AWS Batch, and any job may ask for worker=batch
# (WORKER_MODE only sets the default): its job definition names an image that only
# make publish creates, so install publishes it too.
DEPLOYS_BATCH = $(strip $(WORKER_SUBNETS))
# make clean YES=1: delete without SAM's confirmation prompt.
YES ?=

.PHONY: install publish outputs clean aws-tools

aws-tools:
	$(call need,$(AWS),install the AWS CLI (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html))
	@$(AWS) sts get-caller-identity $(REGION_ARG) >/dev/null || { echo "no AWS credentials: configure a profile or set AWS_PROFILE" >&2; exit 1; }

install: aws-tools
	$(call need,$(SAM),install the AWS SAM CLI (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html))
	@test -n "$(SOURCE_BUCKETS)" -a -n "$(DESTINATION_BUCKET)" || { \
		echo "set SOURCE_BUCKETS and DESTINATION_BUCKET (cp deploy/config.example.env $(MEDIASYNC_CONFIG) and edit it)" >&2; exit 1; }
	@case "$(WORKER_MODE)" in batch|auto) test -n "$(DEPLOYS_BATCH)" || { \
		echo "WORKER_MODE=$(WORKER_MODE) runs part groups on AWS Batch: set WORKER_SUBNETS and WORKER_SECURITY_GROUPS (docs/aws.md: First deployment), or use WORKER_MODE=lambda" >&2; exit 1; };; esac
	$(if $(DEPLOYS_BATCH),$(call need,$(DOCKER),WORKER_SUBNETS deploys AWS Batch workers whose image make install builds and pushes (make publish) with Docker and buildx. Install Docker and run make install again - or leave WORKER_SUBNETS empty for Lambda workers only))
	@# A destination encrypting with a KMS key the stack would not grant fails every copy: say so now.
	@for bucket in $(DESTINATION_BUCKET) $(subst $(comma), ,$(ALLOWED_DESTINATION_BUCKETS)); do \
		$(AWS) s3api get-bucket-encryption $(REGION_ARG) --bucket "$$bucket" --output json 2>/dev/null \
			| $(DEPLOY_PYTHON) deploy/preflight.py "$$bucket" "$(DESTINATION_KMS_KEY_ARN)" || exit 1; \
	done
	$(SAM) build --template-file template.yaml $(SAM_BUILD_FLAGS)
	$(SAM) deploy --stack-name $(STACK_NAME) $(REGION_ARG) --resolve-s3 \
		--capabilities CAPABILITY_IAM --no-confirm-changeset --no-fail-on-empty-changeset \
		--tags project=mediasync --parameter-overrides $(PARAMETER_OVERRIDES)
	$(if $(DEPLOYS_BATCH),@$(MAKE) --no-print-directory publish || { \
		echo "the stack is deployed but its AWS Batch worker image is not: run make publish" >&2; exit 1; })
	@echo "next: make outputs"

publish: aws-tools
	$(call need,$(DOCKER),install Docker with buildx (the image is built for linux/amd64))
	@uri=$$($(call stack_output,WorkerImageRepositoryUri)); \
	if [ -z "$$uri" ] || [ "$$uri" = None ]; then \
		echo "stack $(STACK_NAME) has no worker image repository: deploy with WORKER_SUBNETS set (make install) first" >&2; exit 1; fi; \
	set -e; \
	$(AWS) ecr get-login-password $(REGION_ARG) | $(DOCKER) login --username AWS --password-stdin "$${uri%%/*}"; \
	$(DOCKER) build --platform linux/amd64 -f worker/Dockerfile -t "$$uri:$(WORKER_IMAGE_TAG)" .; \
	$(DOCKER) push "$$uri:$(WORKER_IMAGE_TAG)"

outputs: aws-tools
	@$(AWS) cloudformation describe-stacks $(REGION_ARG) --stack-name $(STACK_NAME) \
		--query "Stacks[0].Outputs" --output json | $(DEPLOY_PYTHON) deploy/outputs.py

# sam delete asks before it deletes anything; YES=1 answers for you (--no-prompts).
clean: aws-tools
	$(call need,$(SAM),install the AWS SAM CLI)
	@repo=$$($(call stack_output,WorkerImageRepositoryName) 2>/dev/null); \
	report=$$($(call stack_output,ReportBucketName) 2>/dev/null); \
	set -e; \
	$(SAM) delete --stack-name $(STACK_NAME) $(REGION_ARG)$(if $(filter 1 y yes true,$(YES)), --no-prompts); \
	if $(AWS) cloudformation describe-stacks $(REGION_ARG) --stack-name $(STACK_NAME) >/dev/null 2>&1; then \
		echo "stack $(STACK_NAME) kept (not confirmed): nothing deleted"; exit 0; fi; \
	if [ -n "$$repo" ] && [ "$$repo" != None ] && \
		$(AWS) ecr describe-repositories $(REGION_ARG) --repository-names "$$repo" >/dev/null 2>&1; then \
		$(AWS) ecr delete-repository $(REGION_ARG) --force --repository-name "$$repo" >/dev/null; fi; \
	if [ -n "$$report" ] && [ "$$report" != None ]; then \
		echo "kept s3://$$report (completion reports) and every source and destination bucket"; fi
