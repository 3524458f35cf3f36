# Placeholder until the harness lands.
test:
	@echo "no tests yet"
