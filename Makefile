# Two commands do all the set-up:  make run  (the app)  and  make test.
# Each creates .venv and installs into it only what it uses, and installs the system
# programs it uses with apt-get (without recommended packages) when they are missing, as
# root on Debian/Ubuntu, or prints the exact install line and stops:
#
#   target                 pip (into .venv)                        apt (when missing)
#   run                    requirements.txt                        RUN_PROGRAMS
#   tree                   requirements.txt                        -
#   test, check            requirements-dev.txt                    TEST_PROGRAMS
#   test-fast              requirements-dev.txt                    RUN_PROGRAMS
#   engines                requirements-dev.txt                    - (apt-get download)
#   lint, typecheck        requirements-dev.txt                    -
#   sample, bench          requirements-dev.txt                    DOCKERD_PROGRAMS
#   screenshots            requirements-dev.txt                    BROWSER_PROGRAMS
#
# requirements.txt is the app (-e .[app]); requirements-dev.txt is that plus the test and
# check tools. Each file has its own stamp, so going from one target to another installs
# nothing twice.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev

# PROGRAM:DEBIAN_PACKAGE pairs for scripts/need-programs.
RUN_PROGRAMS := dot:graphviz
DOCKERD_PROGRAMS := dockerd:docker.io busybox:busybox-static
BROWSER_PROGRAMS := dot:graphviz chromium:chromium
# containerd: Debian 12's 1.6 (with ctr), which docker.io depends on anyway; the 2.1 tests use the
# one unpacked with Engine 28 (make engines).
TEST_PROGRAMS := $(RUN_PROGRAMS) $(DOCKERD_PROGRAMS) podman:podman skopeo:skopeo \
	docker-registry:docker-registry chromium:chromium containerd:containerd

# What `make lint` format-checks and `make typecheck` type-checks (strict everywhere; see
# [tool.mypy] in pyproject.toml).
FORMATTED := src testbed tests bench app.py sample_images
TYPED := src testbed tests bench app.py

.PHONY: run tree test test-fast engines check lint typecheck sample bench screenshots frontend typecheck-js \
	frontend-check protos clean

# The app on http://127.0.0.1:8501 (settings in .streamlit/config.toml: local only, no
# usage statistics, no prompts); a browser tab opens where there is a desktop.
run: $(APP_STAMP)
	@scripts/need-programs $(RUN_PROGRAMS)
	@$(BIN)/python scripts/open-when-ready http://127.0.0.1:8501 &
	$(BIN)/streamlit run app.py

# The text tree needs no Graphviz.
tree: $(APP_STAMP)
	$(BIN)/image-lineage tree --source auto

# The tiers (tests/<tier>/): unit and app (AppTest) need no daemon and run on every core
# (pytest-xdist); integration (the daemons the suite starts) and e2e (the app in Chromium)
# start their own daemons and browser once per process, so they run in one.
FAST_TIERS := tests/unit tests/app
SLOW_TIERS := tests/integration tests/e2e

# Everything: the fast tiers on every core, then the slow ones (which run even when the
# fast ones failed: one run reports every failure).
test: $(DEV_STAMP)
	@scripts/need-programs $(TEST_PROGRAMS)
	@$(MAKE) --no-print-directory engines || echo "(the Engine 28/26 tests will say why they cannot run)"
	@status=0; \
	echo "$(BIN)/python -m pytest -n auto $(FAST_TIERS)"; \
	$(BIN)/python -m pytest -n auto $(FAST_TIERS) || status=$$?; \
	echo "$(BIN)/python -m pytest $(SLOW_TIERS)"; \
	$(BIN)/python -m pytest $(SLOW_TIERS) || status=$$?; \
	exit $$status

# The unit and AppTest tiers only: no daemon, no browser, under a minute on 2 cores.
test-fast: $(DEV_STAMP)
	@scripts/need-programs $(RUN_PROGRAMS)
	$(BIN)/python -m pytest -n auto $(FAST_TIERS)

# Engines 28.5 and 26.1 (containerd image store), downloaded from the Debian archive and
# unpacked into ~/.cache/image-lineage/engines (testbed/engines.py): part of the install, so
# that no test downloads anything; a no-op once cached. Without them those tests skip (fail
# under CI=true, where .ci/run runs this first).
engines: $(DEV_STAMP)
	$(BIN)/python -m testbed.engines fetch

check: lint typecheck test

lint: $(DEV_STAMP)
	$(BIN)/ruff check $(FORMATTED)
	$(BIN)/ruff format --check $(FORMATTED)

typecheck: $(DEV_STAMP)
	$(BIN)/mypy --strict $(TYPED)

screenshots: $(DEV_STAMP)
	@scripts/need-programs $(BROWSER_PROGRAMS)
	SCREENSHOT_DIR=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_browser.py tests/e2e/test_newcomer.py \
		tests/e2e/test_interactive.py tests/e2e/test_big_collection.py tests/e2e/test_lesson.py \
		tests/e2e/test_html_export.py tests/e2e/test_screens.py tests/e2e/test_evidence.py \
		tests/e2e/test_files_view.py

# The tree's scripts (committed, so that neither the app nor a wheel needs Node), built by
# esbuild after npm ci from the lock file: src/image_lineage/assets/tree-component.js
# (the app's Streamlit component, an ES module) and tree-export.js (the HTML export's classic script).
frontend:
	@scripts/need-programs npm:npm
	cd frontend/tree && npm ci --no-audit --no-fund && npm run build

# The tree's sources type-checked: tsc --checkJs (frontend/tree/tsconfig.json; each source
# says // @ts-check, types in JSDoc), typescript from the same lock file.
typecheck-js:
	@scripts/need-programs npm:npm
	cd frontend/tree && npm ci --no-audit --no-fund && npm run typecheck

# What CI runs: the committed scripts are exactly what their committed sources build to
# (one commit once shipped a bundle built from uncommitted source), and the sources
# type-check. Needs a clean src/ (commit first).
frontend-check: frontend typecheck-js
	@if ! git diff --quiet -- src || [ -n "$$(git status --porcelain --untracked-files=all -- src)" ]; then \
		git status --short -- src; \
		echo "make frontend changed src/: commit the scripts built from the committed sources" >&2; \
		exit 1; \
	fi

# containerd's API as the project uses it: its own .proto files (src/image_lineage/sources/
# containerd/proto/) -> *_pb2.py (grpcio-tools) and typed *_pb2.pyi (mypy-protobuf), committed;
# tests/unit/test_containerd_protos.py checks that they are what this makes.
PROTO_DIR := image_lineage/sources/containerd/proto
protos: $(DEV_STAMP)
	cd src && ../$(BIN)/python -m grpc_tools.protoc -I . --plugin=protoc-gen-mypy=../$(BIN)/protoc-gen-mypy \
		--python_out=. --mypy_out=. $(PROTO_DIR)/*.proto

sample: $(DEV_STAMP)
	@scripts/need-programs $(DOCKERD_PROGRAMS)
	$(BIN)/python sample_images/build.py

bench: $(DEV_STAMP)
	@scripts/need-programs $(DOCKERD_PROGRAMS)
	$(BIN)/python bench/scan.py

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(APP_STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

# requirements-dev.txt includes requirements.txt, so that it also works alone
# (pip install -r requirements-dev.txt); here the app is already in place.
$(DEV_STAMP): requirements-dev.txt $(APP_STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
