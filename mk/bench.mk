# Run-time benchmarks: `make bench-run` times `tsrun run` of /bin/true against runc, crun and
# `node -e 0` with hyperfine (RUNS=N, default 30) and prints medians, ratios and a README summary;
# `make bench-profile` shows where one run's time goes (cpu profile, --trace, strace markers).
# Results land in bench/results/ (gitignored).
.PHONY: bench-run bench-profile

bench-run: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/run-bench.sh

bench-profile: deb-deps build samples
	$(if $(RUNS),RUNS=$(RUNS) )bench/run-profile.sh
