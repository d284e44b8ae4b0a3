# The OCI validation suite (opencontainers/runtime-tools) against tsrun, runc and crun, side by side:
# conformance/README.md. The suite is not vendored and never downloaded here: point
# RUNTIME_TOOLS_SRC at a runtime-tools git directory (commit 260e151) or source tree. Without it the
# script prints "suite not available" and succeeds (CI cannot fetch from GitHub).
#   make conformance RUNTIME_TOOLS_SRC=/path/to/runtime-tools [CONFORMANCE_ONLY=regex] [CONFORMANCE_RUNTIMES="tsrun crun"]
#   make conformance-table        re-read the kept TAP logs, rewrite conformance/results.md
.PHONY: conformance conformance-table

conformance: deb-deps npm-deps
	RUNTIME_TOOLS_SRC="$(RUNTIME_TOOLS_SRC)" \
	  $(if $(CONFORMANCE_ONLY),ONLY='$(CONFORMANCE_ONLY)' )$(if $(CONFORMANCE_RUNTIMES),RUNTIMES='$(CONFORMANCE_RUNTIMES)' )conformance/run.sh

conformance-table:
	conformance/run.sh --table-only
