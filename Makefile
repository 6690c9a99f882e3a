# Two commands on a fresh machine:  make book   and   make test
# Both create .venv from the pinned versions in constraints.txt when it is missing or out of date.

PYTHON  ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MATHJAX_VERSION := 3.2.2
SITE_EXTRA := _site_extra
MATHJAX := $(SITE_EXTRA)/mathjax/tex-chtml.js
PORT    ?= 8000

.PHONY: help venv system-packages book test test-fast screenshots serve release lint clean distclean

help:
	@echo "make book       build the website into _build/html (warnings are errors)"
	@echo "make test       build the book, then run the whole test suite"
	@echo "make test-fast  the test suite without rebuilding the book (tests that need the site are deselected)"
	@echo "make venv       create or update .venv from the pinned versions in constraints.txt"
	@echo "make system-packages  install the Debian packages the tests need (chromium, bubblewrap, postgresql, npm, a CJK font)"
	@echo "make screenshots  after make book: every chapter at 1280 px into _build/screenshots (checks its figures and code)"
	@echo "make serve      serve the built site on http://127.0.0.1:$(PORT)"
	@echo "make release    regenerate exercises/ from solutions/"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make clean      remove what the build generated (_build, the site's MathJax copy)"
	@echo "make distclean  clean, and remove .venv too"

venv: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# constraints.txt pins every package, torch to its CPU build: no install step may pull CUDA. PyTorch publishes no
	# "+cpu" builds for macOS, where the plain wheel is already CPU-only: drop the suffix there.
	@if [ "$$(uname -s)" = Darwin ]; then sed 's/+cpu$$//' constraints.txt > $(VENV)/constraints.txt; \
	 else cp constraints.txt $(VENV)/constraints.txt; fi
	$(BIN)/python -m pip install --quiet -c $(VENV)/constraints.txt -e ".[dev]" || { \
	  echo "If torch==2.13.0+cpu was not found, add PyTorch's CPU index:" \
	       "PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu make book"; exit 1; }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

# Chromium, bubblewrap, PostgreSQL, npm and a CJK font come from Debian; the script installs them as root (or with
# passwordless sudo), or stops with the one command to run. COURSE_SKIP_SYSTEM_PACKAGES=1 skips it.
system-packages:
	@PYTHON=$(PYTHON) .ci/system-packages.sh test

# MathJax 3 is served by the site itself (no CDN), from _build/html/mathjax/ (copied there from _site_extra/ through
# html_extra_path,
# so that Jupyter Book does not add every one of its scripts to every page, as it does for whatever is in _static).
# Without npm the site falls back to the CDN, and says so.
$(MATHJAX):
	@rm -rf _static/mathjax  # where older versions of this Makefile put it
	@if command -v npm >/dev/null 2>&1; then \
	  rm -rf _build/npm && mkdir -p _build/npm && \
	  npm install --silent --no-audit --no-fund --prefix _build/npm mathjax@$(MATHJAX_VERSION) && \
	  mkdir -p $(SITE_EXTRA)/mathjax && cp -r _build/npm/node_modules/mathjax/es5/. $(SITE_EXTRA)/mathjax/ ; \
	else \
	  echo "WARNING: npm not found: the site will load MathJax from a CDN and needs the internet to show maths."; \
	fi

book:
	@PYTHON=$(PYTHON) .ci/system-packages.sh book
	@$(MAKE) --no-print-directory $(STAMP) $(MATHJAX)
	@# The site ships course_lib as a wheel with the pinned versions, so downloaded notebooks run anywhere.
	@rm -rf $(SITE_EXTRA)/install && mkdir -p $(SITE_EXTRA)/install && cp constraints.txt $(SITE_EXTRA)/install/
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir $(SITE_EXTRA)/install . && rm -rf build
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@echo "The website is at file://$(CURDIR)/_build/html/index.html  (or run: make serve)"

test: system-packages book
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# The test suite without rebuilding the book (tests that need the site are skipped if it is absent).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not book"

screenshots: $(STAMP)
	COURSE_SCREENSHOTS=_build/screenshots $(BIN)/python -m pytest -q tests/test_site.py -k figures_are_sharp

serve:
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

release: $(STAMP)
	$(BIN)/course release

lint: $(STAMP)
	$(BIN)/ruff check course_lib tests benchmarks
	$(BIN)/ruff format --check course_lib tests benchmarks

clean:
	rm -rf _build $(SITE_EXTRA) _static/mathjax .pytest_cache .ruff_cache .hypothesis
	find course_lib tests benchmarks -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf .venv
