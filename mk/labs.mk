# The labs (docs/labs/): run one as a learner would, every command printed with its output and checked
# against what the lab promises (the harness is test/helpers/labs.ts).
#   make lab LAB=03        a lab on this host
#   make lab-vm LAB=07     a lab in the VM lane (vm/run.sh: a qemu guest booted with cgroup v2 only), for the
#                          cgroup labs a hybrid host cannot run (docs/labs/need-cgroup.sh names this command)
#   make lab-images        regenerate the pictures in docs/labs/img/ from their data (src/diagram/)
.PHONY: lab lab-vm lab-images

# The lab's markdown file, and whether it runs in the VM lane (`<!-- lab lane=vm … -->`).
lab_file = $(wildcard docs/labs/$(LAB)-*.md)
lab_check = @[ -n "$(LAB)" ] && [ -n "$(lab_file)" ] || { echo "usage: make $@ LAB=NN, where docs/labs/NN-*.md is a lab (e.g. LAB=07)" >&2; exit 2; }
# vitest's -t: the lab's test is named after its file ("07-memory-limit: Lab 07: …").
lab_filter = '$(LAB)-[a-z]'

lab: build samples
	$(lab_check)
	TSRUN_LAB_SHOW=1 ./node_modules/.bin/vitest run --project integration test/integration/labs/labs.test.ts -t $(lab_filter)

lab-vm: deps build samples vm-image
	$(lab_check)
	@grep -q 'lab lane=vm' $(lab_file) || { echo "make lab-vm: $(lab_file) runs on the host: make lab LAB=$(LAB)" >&2; exit 2; }
	vm/run.sh --timeout $(VM_TIMEOUT) --env TSRUN_LAB_SHOW=1 -- \
	  ./node_modules/.bin/vitest run --project vm test/vm/labs-cgroups.test.ts -t $(lab_filter)

lab-images: npm-deps
	node scripts/lab-images.mjs
