# ClinFusion: the two set-up commands are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
export MLFLOW_DISABLE_TELEMETRY := true
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test lint venv clean app

# Create the virtual environment once; reinstall only when pyproject.toml changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,retrain,ray]'
	$(BIN)/python -m pip install --quiet --no-deps $$(grep -oE '"(timm|open-clip-torch|ftfy)==[0-9.]+"' pyproject.toml | tr -d '"')  # see pyproject [timm]
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m pipelines.demo --out $(DEMO_DIR)

lint: $(STAMP)
	$(BIN)/ruff check platform pipelines apps tests bench notebooks
	$(BIN)/mypy platform/clinfusion

test: $(STAMP) lint
	$(BIN)/python -m pytest -q

# The review app on http://127.0.0.1:$(APP_PORT) for the demo workspace; a demo clinician
# (user demo, password demo-review) is added on first use. Demo workspace only.
APP_PORT ?= 8501
app: $(STAMP)
	@test -f $(DEMO_DIR)/workspace/workspace.json || { echo "no demo workspace: run make demo first"; exit 1; }
	@$(BIN)/clinfusion users list -w $(DEMO_DIR)/workspace | grep -q " demo " || \
		$(BIN)/clinfusion users add demo --role clinician --password demo-review -w $(DEMO_DIR)/workspace
	@echo "log in as: demo / demo-review"
	$(BIN)/clinfusion app --workspace $(DEMO_DIR)/workspace --port $(APP_PORT)

clean:
	rm -rf $(DEMO_DIR) .pytest_cache
