# tests/bench/ - `make bench`.  Not part of `make
# check`: timings on a shared machine are no tests.  Each script builds its
# fixtures in a temporary folder and prints table rows (median of runs,
# ratio to the peer, peak RSS); tests/bench/RESULTS.md keeps the last ones.
# BENCH_RUNS=N (default 3) runs each figure N times.
EXTRA_PROGRAMS = tests/bench/parse-bench
tests_bench_parse_bench_SOURCES = tests/bench/parse-bench.c
tests_bench_parse_bench_CFLAGS = $(PROJECT_CFLAGS)
tests_bench_parse_bench_LDADD = libvmdkit.la
CLEANFILES += tests/bench/parse-bench$(EXEEXT)

BENCH_FIGURES = tests/bench/stamp.sh tests/bench/check.sh \
	tests/bench/promote-ratio.sh tests/bench/rss.sh
EXTRA_DIST += tests/bench/lib.sh tests/bench/RESULTS.md $(BENCH_FIGURES)

bench: vmdkit$(EXEEXT) tests/bench/parse-bench$(EXEEXT)
	@echo "# make bench, $$(date -u '+%Y-%m-%d %H:%M UTC'), $$(uname -n), $$(nproc) cores, $$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
	@echo "# parse"
	@echo "| figure | vmdkit median | peer median | ratio (peer/vmdkit) | vmdkit peak RSS | note |"
	@echo "|---|---:|---:|---:|---:|---|"
	@$(top_builddir)/tests/bench/parse-bench
	@for s in $(BENCH_FIGURES); do \
		VMDKIT='$(abs_top_builddir)/vmdkit' \
			$(SHELL) '$(abs_top_srcdir)/'$$s || exit 1; \
	done
.PHONY: bench
