# The two commands: `make test` and `make demo`. Both set themselves up first (idempotent).
SHELL := /bin/bash
export PATH := $(CURDIR)/.tools/bin:$(CURDIR)/node_modules/.bin:$(CURDIR)/.venv/bin:$(PATH)
export PYTHONUNBUFFERED := 1

.PHONY: setup test test-deep demo bench bench-data bench-agent bench-gateway coverage clean up down status bench-listing bench-pool web bench-web bench-servers

setup:
	@tools/setup.sh

test: setup
	brownie test tests/ $(TEST_ARGS)

# The two stateful property tests with large settings (minutes to hours; `make test` runs them small).
test-deep: setup
	POOL_EXAMPLES=$${POOL_EXAMPLES:-100} POOL_STEPS=$${POOL_STEPS:-50} brownie test tests/test_pool_stateful.py $(TEST_ARGS)
	STATEFUL_EXAMPLES=$${STATEFUL_EXAMPLES:-200} brownie test tests/test_stateful.py $(TEST_ARGS)

demo: setup
	python scripts/demo.py

bench: setup
	python bench/gas.py 

clean:
	rm -rf build .tools/stamps reports

bench-data: setup
	python bench/data_path.py $${SIZE_MIB:-1024}

bench-agent: setup
	python bench/agent.py $${PURCHASES:-1000}

coverage: setup
	tools/coverage.sh

# The local stack that stays up (chain, Kubo, marketplace) under the data folder ($$DATALICENSE_HOME, ~/.datalicense)
up: setup
	datalicense up

down:
	datalicense down

status:
	datalicense status

bench-listing: setup
	python bench/listing.py $${DATASETS:-1000}

bench-gateway: setup
	python bench/gateway.py $${ROUNDS:-5} $${SIZE_KIB:-1024}

bench-pool: setup
	python bench/pool_million.py $${CONTRIBUTORS:-1000000}

# The web page on localhost (the local stack or --network NAME); open the address it prints
web: setup
	datalicense web --port $${PORT:-8600}

bench-web: setup
	python bench/web_fetch.py $${SIZE_MIB:-256}

# Honest requests to the page's server and the 402 gateway under each attack of issue 21 (items 15-19)
bench-servers: setup
	python bench/server_attacks.py $${LABEL:-after}
