# Two commands do all the set-up:  make run  (the app)  and  make test.
# Each creates .venv and installs requirements.txt when needed, and installs the
# system programs it uses with apt-get when they are missing (as root), or prints
# the exact install line and stops.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run tree test check lint typecheck sample bench screenshots clean system-run system-test

# The app on http://127.0.0.1:8501 (settings in .streamlit/config.toml: local only, no
# usage statistics, no prompts); a browser tab opens where there is a desktop.
run: $(STAMP) system-run
	@$(BIN)/python scripts/open-when-ready http://127.0.0.1:8501 &
	$(BIN)/streamlit run app.py

tree: $(STAMP) system-run
	$(BIN)/image-lineage tree --source auto

screenshots: $(STAMP) system-test
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_browser.py

test: $(STAMP) system-test
	$(BIN)/python -m pytest

check: lint typecheck test

lint: $(STAMP)
	$(BIN)/ruff check src tests bench sample_images app.py
	$(BIN)/ruff format --check src

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

sample: $(STAMP) system-test
	$(BIN)/python sample_images/build.py

bench: $(STAMP) system-test
	$(BIN)/python bench/scan.py

$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

system-run:
	@scripts/need-programs dot:graphviz

system-test:
	@scripts/need-programs dot:graphviz dockerd:docker.io busybox:busybox-static podman:podman skopeo:skopeo docker-registry:docker-registry chromium:chromium

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
