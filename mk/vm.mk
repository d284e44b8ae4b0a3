# The VM lane: a qemu (TCG) guest with a pure cgroup v2 kernel, for the limits these hybrid-cgroup hosts
# cannot apply. See vm/README.md. Boot files are cached in vm/build (rebuilt only when missing or when
# vm/guest/* changed); `make vm-clean` drops them.
.PHONY: vm-image test-vm vm-clean

# Seconds before the VM is killed (vm/run.sh exits 124).
VM_TIMEOUT ?= 900
# Extra vitest arguments, e.g. make test-vm VM_VITEST_ARGS='-t freeze'
VM_VITEST_ARGS ?=

vm-image:
	vm/image.sh

# Same as `npx vitest run --project vm`, minus npx's own start-up (seconds under TCG).
test-vm: deps build samples vm-image
	vm/run.sh --timeout $(VM_TIMEOUT) -- ./node_modules/.bin/vitest run --project vm $(VM_VITEST_ARGS)

vm-clean:
	rm -rf --one-file-system vm/build

# For `make test`: the vm project with a JSON report copied back to test-results/vm.json, so the one
# closing summary line counts the tests run in the VM too.
TEST_VM_TARGET := test-vm-report
TEST_VM_RESULTS := test-results/vm.json
.PHONY: test-vm-report
test-vm-report: deps build samples vm-image
	@mkdir -p test-results
	vm/run.sh --keep --timeout $(VM_TIMEOUT) -- sh -c './node_modules/.bin/vitest run --project vm --reporter=default --reporter=json --outputFile.json="$$TSRUN_VM_RESULTS/vm.json"'; \
	  rc=$$?; run=$$(ls -td vm/build/runs/*/ | head -1); \
	  cp "$$run/shared/vm.json" $(TEST_VM_RESULTS) 2>/dev/null || echo "test-vm-report: no report from the VM run" >&2; \
	  rm -rf --one-file-system "$$run"; exit $$rc
