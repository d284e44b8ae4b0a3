# Run-time benchmarks: `make bench-run` times `tsrun run` of /bin/true against runc, crun and
# `node -e 0` with hyperfine (RUNS=N, default 30) and prints medians, ratios and a README summary;
# `make bench-profile` shows where one run's time goes (cpu profile, --trace, strace markers).
# `make bench-lifecycle` times create/start/delete -f (and the cycle) and PARALLEL=N (default 50)
# parallel `run -d` / `delete -f` (one by one and at once) for tsrun, runc and crun (RUNS, ROUNDS).
# Results land in bench/results/ (gitignored).
.PHONY: bench-run bench-profile bench-lifecycle

bench-run: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/run-bench.sh

bench-profile: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/run-profile.sh

bench-lifecycle: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )$(if $(ROUNDS),ROUNDS=$(ROUNDS) )$(if $(PARALLEL),PARALLEL=$(PARALLEL) )bench/lifecycle-bench.sh

# `make bench-lazy`: the functions one `tsrun run` still compiles at run time (not in the snapshot).
.PHONY: bench-lazy
bench-lazy: build samples
	bench/lazy-functions.sh

# `make bench-pull`: `tsrun image pull` of a multi-layer image from a local docker-registry against
# `skopeo copy` + `tsrun image import` and `podman pull`, in one hyperfine run (RUNS=N, default 5).
.PHONY: bench-pull
bench-pull: deb-deps build
	$(if $(RUNS),BENCH_RUNS=$(RUNS) )bench/image-pull.sh

# `make bench-rootless`: `run` of /bin/true from one `spec --rootless` bundle: tsrun as root, tsrun as a
# throwaway normal user, runc rootless as that user, in one hyperfine run (RUNS=N, default 30).
.PHONY: bench-rootless
bench-rootless: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/rootless-bench.sh

# `make bench-rootless-import`: `image import` as a throwaway user: the sample's two layers and a layer
# of 2,000 files of uid 1000 (each chowned in the user's namespace). Medians of RUNS=N (default 10).
# TSRUN=/other/checkout/bin/tsrun times another build, for a before/after.
.PHONY: bench-rootless-import
bench-rootless-import: deb-deps build samples
	$(if $(RUNS),BENCH_RUNS=$(RUNS) )bench/rootless-import.sh

# `make bench-api`: the library in-process (run() of /bin/true, 50 at once, start + Wait.forLog + stop)
# against crun and the CLI, in one run (RUNS=N, default 50; PARALLEL=N, default 50). bench/api-bench.mjs.
.PHONY: bench-api
bench-api: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )$(if $(PARALLEL),PARALLEL=$(PARALLEL) )node bench/api-bench.mjs


# `make bench-network`: run of /bin/true with --network none vs bridge (the cost of CNI) for tsrun and
# podman in one hyperfine run, and the library's forwardPort vs CNI portmap (latency, throughput), all
# in a network namespace of its own (bench/network-bench.sh; RUNS=N, default 20).
.PHONY: bench-network
bench-network: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/network-bench.sh

# `make bench-usermode-net`: start cost of slirp4netns vs pasta as a user (why slirp4netns is the
# user-mode network), and `run` of /bin/true rootless with --network none vs slirp4netns, all in a
# network namespace of the bench's own (RUNS=N, default 15). bench/usermode-net-bench.sh.
.PHONY: bench-usermode-net
bench-usermode-net: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/usermode-net-bench.sh
