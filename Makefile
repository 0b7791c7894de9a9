# ecs-state-logger — every target runs from a fresh clone; `make help` lists them.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

ENV ?= local
ENV_DIR := environments/$(ENV)
# Every directory with a terraform.tfvars.json is an environment (environments/shared is not).
ENVIRONMENTS := $(patsubst environments/%/terraform.tfvars.json,%,$(wildcard environments/*/terraform.tfvars.json))
TFVARS := $(ENV_DIR)/terraform.tfvars.json
PYTHON ?= python3
# The environment loader (the core crate's ecs-audit-env, as the CLI and the tests read
# environments): built on first use, so only targets that need a setting run it.
ENV_LOADER ?= scripts/ecs-audit-env
# Reads one key of the environment's terraform.tfvars.json ("" when absent).
tfvar = $(shell $(ENV_LOADER) $(ENV) $(1) 2>/dev/null)

# Lambda architecture: the environment's choice unless ARCH is given, read once, when a target
# first needs it (nothing reads it while the Makefile is parsed). Only the host's Rust
# target is guaranteed on CI machines; `make arch-tools ARCH=...` installs the other.
ARCH ?= $(eval ARCH := $(or $(call tfvar,architecture),x86_64))$(ARCH)
HOST_ARCH := $(if $(filter aarch64 arm64,$(shell uname -m)),arm64,x86_64)
# The tests that run the shipped bootstrap over the Runtime API: what `make test` runs when
# ARCH is not the host's (the bootstrap then runs under QEMU's user-mode emulator). The rest
# of the suite tests host code, which is the same whatever architecture the package has.
# (--workspace: the same feature resolution as the full suite, so its test binaries are reused.)
EMULATED_TESTS := --workspace --test local_environment --test bad_input --test soak
# The soak's deliveries under emulation (10,000 natively): still 4 processes racing on shared keys.
EMULATED_SOAK_DELIVERIES := 1000
CARGO_LAMBDA_VERSION := 1.9.2
LAMBDA_DIR := target/lambda/ecs-state-logger
PACKAGE := $(LAMBDA_DIR)/bootstrap.zip

# The local AWS API (moto server) for ENV=local and the demo. Deliberately not exported: the
# AWS provider and SDKs honour AWS_ENDPOINT_URL, and a default must never redirect dev or prd.
LOCAL_ENDPOINT := $(or $(AWS_ENDPOINT_URL),http://127.0.0.1:4566)

# Terraform: a filesystem mirror of providers when TF_PLUGIN_DIR names one (this machine's
# /opt/tf-plugins is used when it exists), the public registry otherwise.
TF_PLUGIN_DIR ?= $(wildcard /opt/tf-plugins)
export TF_PLUGIN_DIR
ifneq ($(strip $(TF_PLUGIN_DIR)),)
TF_CLI_CONFIG := $(CURDIR)/build/terraformrc
export TF_CLI_CONFIG_FILE := $(TF_CLI_CONFIG)
endif
TF := terraform -chdir=$(ENV_DIR)
ifeq ($(ENV),local)
TF_VARS = -var aws_endpoint_url=$(LOCAL_ENDPOINT) -var architecture=$(ARCH)
TF_BACKEND :=
AUTO_APPROVE ?= -auto-approve
else
TF_VARS = -var architecture=$(ARCH)
TF_BACKEND := -backend-config=backend.hcl
AUTO_APPROVE ?=
endif

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z][a-z0-9-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

# ---------------------------------------------------------------------------- tools

.PHONY: tools
tools: ## Install the Python tools (moto server, cargo-lambda, awscli, awslambdaric, the MCP client)
	@$(PYTHON) -m pip install --quiet --disable-pip-version-check -r tests/requirements.txt

.PHONY: cargo-lambda
cargo-lambda:
	@command -v cargo-lambda >/dev/null || $(PYTHON) -m pip install --quiet --disable-pip-version-check cargo-lambda==$(CARGO_LAMBDA_VERSION)

.PHONY: moto
moto:
	@{ command -v moto_server >/dev/null && $(PYTHON) -c 'import cheroot, mcp' 2>/dev/null; } || $(MAKE) --no-print-directory tools

build/terraformrc:
	@mkdir -p build
	@printf 'provider_installation {\n  filesystem_mirror {\n    path    = "%s"\n    include = ["registry.terraform.io/hashicorp/*"]\n  }\n  direct {\n    exclude = ["registry.terraform.io/hashicorp/*"]\n  }\n}\n' "$(TF_PLUGIN_DIR)" > $@

.PHONY: tf-config
tf-config: $(if $(TF_CLI_CONFIG),build/terraformrc)

# ---------------------------------------------------------------------------- build

.PHONY: build
build: cargo-lambda ## Build the Lambda package with cargo-lambda (ARCH=arm64|x86_64)
	@case "$(ARCH)" in x86_64) flag=--x86-64 ;; arm64) flag=--arm64 ;; *) echo "ARCH must be arm64 or x86_64, not '$(ARCH)'" >&2; exit 2 ;; esac; \
	if [ "$(ARCH)" = arm64 ] && ! rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then \
	  echo "ARCH=arm64 needs the aarch64 Rust target: run 'make arch-tools ARCH=arm64' (rustup target add aarch64-unknown-linux-gnu), or build with ARCH=x86_64 (and set \"architecture\": \"x86_64\" in $(TFVARS))" >&2; exit 1; fi; \
	cargo lambda build --release --bin ecs-state-logger $$flag --output-format zip; \
	cargo lambda build --release --bin ecs-state-logger $$flag; \
	echo "$(ARCH)" > $(LAMBDA_DIR)/ARCH; \
	ls -l $(LAMBDA_DIR)/bootstrap $(PACKAGE)

# ---------------------------------------------------------------------------- deploy

.PHONY: regions
regions: ## Regenerate the environment's per-region wiring from its region list
	@$(PYTHON) scripts/gen-regions.py $(ENV)

.PHONY: local-api
local-api: moto ## Start moto server at AWS_ENDPOINT_URL (default http://127.0.0.1:4566) unless something answers there
	@scripts/local-api.sh start $(LOCAL_ENDPOINT)

.PHONY: local-api-stop
local-api-stop: ## Stop the moto server started by local-api
	@scripts/local-api.sh stop $(LOCAL_ENDPOINT)

.PHONY: preflight
preflight: tf-config
	@scripts/preflight.sh $(ENV) $(ARCH)

.PHONY: init
init: preflight regions
	@$(TF) init -input=false -upgrade=false $(TF_BACKEND) >/dev/null
	@echo "terraform initialised in $(ENV_DIR)"

.PHONY: plan
plan: preflight build $(if $(filter local,$(ENV)),local-api) init ## Show what deploying ENV would change
	@$(TF) plan -input=false $(TF_VARS)

.PHONY: deploy
deploy: preflight build $(if $(filter local,$(ENV)),local-api) init ## Build, then apply every region of ENV (ENV=local uses the local AWS API)
	@$(TF) apply -input=false $(AUTO_APPROVE) $(TF_VARS)
	@$(TF) output -json regions | $(PYTHON) scripts/deploy-summary.py

# Tables with deletion protection refuse DeleteTable. ALLOW_TABLE_DELETION=1 first applies the
# environment with protection off, then destroys: the deliberate, two-step override.
.PHONY: destroy
destroy: $(if $(filter local,$(ENV)),local-api) init ## Remove everything ENV created, in every region (protected tables: ALLOW_TABLE_DELETION=1)
	@if [ "$(call tfvar,deletion_protection)" != false ] && [ "$(ALLOW_TABLE_DELETION)" != 1 ]; then \
	  echo "$(ENV)'s tables have deletion protection on, so DynamoDB refuses to delete them and the audit log stays." >&2; \
	  echo "To delete them with everything else: make destroy ENV=$(ENV) ALLOW_TABLE_DELETION=1 (turns protection off, then destroys)." >&2; \
	  exit 1; fi
	@if [ "$(ALLOW_TABLE_DELETION)" = 1 ]; then $(TF) apply -input=false $(AUTO_APPROVE) $(TF_VARS) -var deletion_protection=false; fi
	@$(TF) destroy -input=false $(AUTO_APPROVE) $(TF_VARS) $(if $(filter 1,$(ALLOW_TABLE_DELETION)),-var deletion_protection=false)

.PHONY: replay
replay: build local-api ## Replay EVENTS (default: the fixtures) through the built bootstrap into ENV=local's tables
	@cargo run --quiet --release -p harness --bin lambda-replay -- --bootstrap $(LAMBDA_DIR)/bootstrap \
	  --environment $(ENV) --endpoint $(LOCAL_ENDPOINT) --events $(or $(EVENTS),tests/fixtures/events) $(REPLAY_ARGS)

.PHONY: demo
demo: ## One command, no AWS account: local API, deploy, a day of ECS events, the five answers
	@scripts/demo.sh

# ---------------------------------------------------------------------------- checks

.PHONY: fmt
fmt: ## Format Rust and Terraform
	cargo fmt --all
	terraform fmt -recursive modules environments tests

.PHONY: lint
lint: lint-fmt lint-clippy lint-terraform checkov ## fmt --check, clippy -D warnings, terraform fmt/validate, checkov, docs and generated-file checks

# The parts of lint that .pre-commit-config.yaml runs before a commit (all but checkov).
.PHONY: lint-fmt
lint-fmt: ## Formatting only: cargo fmt --check, terraform fmt -check
	cargo fmt --all -- --check
	terraform fmt -check -recursive modules environments tests

.PHONY: lint-clippy
# The second run checks the core as ecs-audit-env builds it: without its DynamoDB mapping.
lint-clippy: ## clippy -D warnings on every crate and target
	cargo clippy --workspace --all-targets -- -D warnings
	cargo clippy -p ecs-audit-core --no-default-features --lib --bins -- -D warnings

.PHONY: lint-terraform
lint-terraform: tf-config ## terraform validate of every environment (its generated wiring checked) and module
	@for env in $(ENVIRONMENTS); do \
	  $(PYTHON) scripts/gen-regions.py --check $$env; \
	  terraform -chdir=environments/$$env init -backend=false -input=false >/dev/null; \
	  terraform -chdir=environments/$$env validate -no-color; done
	@for module in modules/*/; do terraform -chdir=$$module init -backend=false -input=false >/dev/null; terraform -chdir=$$module validate -no-color; done

CHECKOV_VENV := build/venv-checkov

$(CHECKOV_VENV)/bin/checkov: tests/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r $<
	@touch $@

PLAN_DIR := build/plans

# Two scans, zero failed checks in each: the Terraform source, and the plan of every
# environment against the local AWS API (scripts/plan-json.sh; a placeholder package stands
# in when none is built, so this runs before `make build`).
.PHONY: checkov
checkov: $(CHECKOV_VENV)/bin/checkov moto tf-config ## Security scan of modules/ and environments/, and of every environment's plan
	$(CHECKOV_VENV)/bin/checkov --config-file .checkov.yaml
	@for env in $(ENVIRONMENTS); do scripts/plan-json.sh $$env $(PLAN_DIR)/$$env.json; done
	cd build && ../$(CHECKOV_VENV)/bin/checkov --config-file ../.checkov-plan.yaml \
	  $(foreach module,$(wildcard modules/*),--repo-root-for-plan-enrichment ../$(module)) \
	  $(foreach env,$(ENVIRONMENTS),-f ../$(PLAN_DIR)/$(env).json)

# Test layers: every test target (each `tests/*.rs` of a workspace crate) is in exactly one,
# and the unit layer also holds every crate's own unit tests (`--lib --bins`);
# tests/harness/tests/repo_rules.rs checks that, so `make test` skips none.
# unit: pure code in the test process; no network, no local AWS API, no child process.
UNIT_TESTS := --lib --bins --test canonical_json --test drift --test fixtures --test fuzz_parser \
  --test handler --test limits --test repo_rules --test report_memory
# adapter: the real SDK and the harness's drivers (moto server, Runtime API, Terraform) on
# their own, against moto or a local socket.
ADAPTER_TESTS := --test dynamodb_store --test moto --test runtime_api --test terraform
# blackbox: the shipped binaries (bootstrap, ecs-audit, lambda-replay, ecs-audit-env) as
# processes, and Terraform applied or planned against moto; the CLI's browser tests.
BLACKBOX_TESTS := --test bad_input --test ecs_audit_env --test environment_alarms \
  --test environment_plans --test fault_proxy --test function --test iam_policy \
  --test lambda_replay --test local_environment --test mutants --test notifications \
  --test soak --test tls --test queries --test readme_recipes --test redrive --test report \
  --test report_scale --test why --test mcp
# The black-box layer runs as two concurrent `cargo test` runs over one build: its tests mostly
# wait on the local API and Terraform, so one run leaves a core idle. This half is the first
# run (about half the time), the rest of BLACKBOX_TESTS the second.
BLACKBOX_FIRST_HALF := local_environment environment_plans fault_proxy mutants report
blackbox_names = $(filter-out --test,$(BLACKBOX_TESTS))
blackbox_first = $(patsubst %,--test %,$(filter $(BLACKBOX_FIRST_HALF),$(blackbox_names)))
blackbox_second = $(patsubst %,--test %,$(filter-out $(BLACKBOX_FIRST_HALF),$(blackbox_names)))
# Every layer selects from the whole workspace: the same feature resolution in each, so one
# build of the test binaries serves all three.
TEST_ARGS := --no-fail-fast -- --test-threads=2

# ARCH is read when a test target runs, not when the Makefile is parsed. When ARCH is not the
# host's, only black-box tests (EMULATED_TESTS) run: the bootstrap under QEMU's emulator; the
# module tests and the unit and adapter layers test host code, the same whatever the
# package's ARCH. Each layer runs even when an earlier one failed; any failure fails the target.
.PHONY: test
test: ## Run all tests: unit, Terraform module tests, adapter (moto), black-box (bootstrap + Terraform on moto, CLI); ARCH=arm64 on x86_64: the black-box tests, emulated
	@failed=""; for layer in $(if $(filter $(HOST_ARCH),$(ARCH)),unit terraform adapter blackbox,blackbox); do \
	  $(MAKE) --no-print-directory test-$$layer ARCH=$(ARCH) || failed="$$failed $$layer"; done; \
	if [ -n "$$failed" ]; then echo "make test: failed layers:$$failed" >&2; exit 1; fi

.PHONY: test-unit
test-unit: ## Unit layer: parsing, mapping, the handler with an in-memory store, every crate's unit tests, repository rules
	cargo test --workspace $(UNIT_TESTS) $(TEST_ARGS)

# Plan checks of each module with a mock AWS provider (offline, seconds): modules/*/tests/*.tftest.hcl.
.PHONY: test-terraform
test-terraform: tf-config ## Terraform layer: each module's own tests (variable validations, key resources), mock provider
	@for module in modules/*/; do \
	  echo "== terraform test $$module"; \
	  terraform -chdir=$$module init -backend=false -input=false >/dev/null; \
	  terraform -chdir=$$module test -no-color; done

.PHONY: test-adapter
test-adapter: moto tf-config ## Adapter layer: the DynamoDB adapter with the real SDK against moto, the harness's drivers
	cargo test --workspace $(ADAPTER_TESTS) $(TEST_ARGS)

# LAMBDA_ARCH tells the harness which package it tests and how to start it (tests/harness/src/arch.rs).
.PHONY: test-blackbox
test-blackbox: tf-config ## Black-box layer: the shipped bootstrap over the Runtime API, Terraform applied to moto, the built CLI
	@$(MAKE) --no-print-directory test-blackbox-$(if $(filter $(HOST_ARCH),$(ARCH)),native,emulated) ARCH=$(ARCH)

# The host's architecture: every black-box test, in two concurrent runs over one build.
.PHONY: test-blackbox-native
test-blackbox-native: tf-config
	@$(MAKE) --no-print-directory build moto ARCH=$(ARCH)
	cargo test --workspace $(BLACKBOX_TESTS) --no-run
	@mkdir -p build; status=0; \
	echo "the black-box tests run as two concurrent runs (logs: build/test-blackbox-{1,2}.log)"; \
	LAMBDA_ARCH=$(ARCH) cargo test --workspace $(blackbox_first) $(TEST_ARGS) >build/test-blackbox-1.log 2>&1 & first=$$!; \
	LAMBDA_ARCH=$(ARCH) cargo test --workspace $(blackbox_second) $(TEST_ARGS) >build/test-blackbox-2.log 2>&1 & second=$$!; \
	wait $$first || status=1; wait $$second || status=1; \
	cat build/test-blackbox-1.log build/test-blackbox-2.log; exit $$status

# Another architecture: the bootstrap's tests (EMULATED_TESTS) under QEMU's emulator.
.PHONY: test-blackbox-emulated
test-blackbox-emulated: tf-config
	@$(MAKE) --no-print-directory arch-tools build moto ARCH=$(ARCH)
	LAMBDA_ARCH=$(ARCH) SOAK_DELIVERIES=$(EMULATED_SOAK_DELIVERIES) cargo test $(EMULATED_TESTS) $(TEST_ARGS)

.PHONY: arch-tools
arch-tools: ## Install what ARCH needs here: its Rust target, and QEMU with its C library when it is not the host's
	@scripts/arch-tools.sh $(ARCH)

.PHONY: check
check: lint test ## Everything CI runs

# ---------------------------------------------------------------------------- benchmarks

.PHONY: bench
bench: build moto ## Side-by-side benchmark against the Python recipe; writes build/bench/results.md
	@scripts/bench.sh
	@scripts/bench-scale.sh

.PHONY: bench-short
bench-short: build moto ## The benchmark with few events and one repetition, to keep it working
	@BENCH_EVENTS=200 BENCH_REPETITIONS=1 BENCH_COLD_RUNS=1 BENCH_COLD_MEMORY=128 scripts/bench.sh
	@BENCH_SCALE_TASKS=300 BENCH_SCALE_SERVICES=10 BENCH_SCALE_PROFILE=dev scripts/bench-scale.sh

.PHONY: bench-cold
bench-cold: build moto ## Only the cold path: TLS to the local API, Lambda's CPU share at 128/256/512 MB
	@BENCH_COLD_ONLY=1 scripts/bench.sh

.PHONY: clean
clean: local-api-stop ## Remove build outputs (keeps Terraform state)
	rm -rf build target/lambda
