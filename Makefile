# Two commands on a fresh machine (Python 3.10-3.12): `make train` and `make test`.
# Each creates .venv and installs the project when pyproject.toml is newer than the venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
ARGS   ?=
PYTEST_ARGS ?=
PORT   ?= 5000

.PHONY: install train test test-fast lint format ui demo-data clean-outputs bench

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Train the default model on the embedded demo data (generated on first use). ARGS="key=value ..."
train: $(STAMP)
	$(BIN)/happysad-train $(ARGS)

## The whole test suite, slow end-to-end tests included (pytest exit 5 "no tests" counts as success).
test: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 0; fi; exit $$rc

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## MLflow UI on the project's store: http://127.0.0.1:$(PORT)
ui: $(STAMP)
	$(BIN)/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/outputs/mlflow.db --host 127.0.0.1 --port $(PORT)

demo-data: $(STAMP)
	$(BIN)/python scripts/make_demo_data.py --out outputs/demo_data/manual --per-class 400

## The performance benchmarks (about 10 minutes on 2 cores): one JSON line each, into outputs/bench/.
bench: $(STAMP)
	@mkdir -p outputs/bench
	$(BIN)/python scripts/bench_scan.py > outputs/bench/scan.json
	@cat outputs/bench/scan.json
	$(BIN)/python scripts/bench_predict.py > outputs/bench/predict.json
	@cat outputs/bench/predict.json
	$(BIN)/python scripts/bench_train.py > outputs/bench/train.json
	@cat outputs/bench/train.json
	$(BIN)/python scripts/bench_faces.py > outputs/bench/faces.json
	@cat outputs/bench/faces.json
