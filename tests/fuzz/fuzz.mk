# tests/fuzz/ - libFuzzer harnesses (owner: hardening work).
#
# `make fuzz` builds them with clang and -fsanitize=fuzzer,address,undefined.
# The library sources are compiled straight into each harness (not the
# libtool archive), so the instrumentation and sanitizers cover them.
# `make fuzz-smoke FUZZ_TIME=60` runs each harness for FUZZ_TIME seconds
# over its seed corpus (tests/fuzz/seeds/NAME, plus ../shared/corpus when
# present); new inputs go to tests/fuzz/corpus/NAME (not in git).
FUZZ_CC = clang
FUZZ_TIME = 60
FUZZ_SANITIZE = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer $(FUZZ_SANITIZE) \
	-I$(top_srcdir) -I$(top_builddir) \
	$(PCRE2_CFLAGS) $(YAML_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
FUZZ_LIBS = $(PCRE2_LIBS) $(YAML_LIBS) $(CRYPTO_LIBS) $(ZLIB_LIBS)
FUZZ_TARGETS = fuzz_descriptor fuzz_dict fuzz_sparse fuzz_plan
FUZZ_HARNESSES = tests/fuzz/fuzz_descriptor.c tests/fuzz/fuzz_dict.c \
	tests/fuzz/fuzz_sparse.c tests/fuzz/fuzz_plan.c

EXTRA_DIST += tests/fuzz/fuzz.mk tests/fuzz/README tests/fuzz/.gitignore $(FUZZ_HARNESSES) \
	tests/fuzz/seeds

# The library compiled once with the fuzzing flags, as one archive.
tests/fuzz/libvmdkit-fuzz.a: $(libvmdkit_la_SOURCES) config.h
	@rm -rf tests/fuzz/obj && $(MKDIR_P) tests/fuzz/obj
	@for s in $(libvmdkit_la_SOURCES); do \
	  case $$s in *.c) ;; *) continue ;; esac; \
	  o=tests/fuzz/obj/`echo $$s | tr / _`.o; \
	  echo "  FUZZCC   $$s"; \
	  $(FUZZ_CC) $(FUZZ_CFLAGS) -c $(srcdir)/$$s -o $$o || exit 1; \
	done
	rm -f $@ && $(AR) rcs $@ tests/fuzz/obj/*.o

fuzz: tests/fuzz/libvmdkit-fuzz.a $(FUZZ_HARNESSES)
	@for t in $(FUZZ_TARGETS); do \
	  echo "  FUZZLD   tests/fuzz/$$t"; \
	  $(FUZZ_CC) $(FUZZ_CFLAGS) -o tests/fuzz/$$t \
	    $(srcdir)/tests/fuzz/$$t.c tests/fuzz/libvmdkit-fuzz.a \
	    $(FUZZ_LIBS) || exit 1; \
	done

# Each harness for FUZZ_TIME seconds, one after the other; any crash,
# leak or sanitizer report fails the target.
fuzz-smoke: fuzz
	@for t in $(FUZZ_TARGETS); do \
	  $(MKDIR_P) tests/fuzz/corpus/$$t; \
	  shared=; sc=$(top_srcdir)/../shared/corpus; \
	  case $$t in \
	  fuzz_descriptor) shared="$$sc/descriptors $$sc/descriptors-bad" ;; \
	  fuzz_dict) shared="$$sc/vmx $$sc/vmsd" ;; \
	  esac; \
	  dirs=; for d in $$shared; do test -d $$d && dirs="$$dirs $$d"; done; \
	  echo "fuzz-smoke: $$t for $(FUZZ_TIME) s"; \
	  tests/fuzz/$$t -max_total_time=$(FUZZ_TIME) \
	    -artifact_prefix=tests/fuzz/crash-$$t- -print_final_stats=1 \
	    tests/fuzz/corpus/$$t $(srcdir)/tests/fuzz/seeds/$$t $$dirs \
	    || exit 1; \
	done

# Source coverage of what the fuzzers reached: each harness rebuilt with
# clang's source-based coverage (no sanitizers), run once over its corpus
# (tests/fuzz/corpus/NAME and seeds, or FUZZ_CORPUS_ROOT/NAME), then
# llvm-cov's per-file report of the library files it exercises.
FUZZ_CORPUS_ROOT = tests/fuzz/corpus
FUZZ_COV_CFLAGS = -g -O1 -fsanitize=fuzzer -fprofile-instr-generate \
	-fcoverage-mapping -I$(top_srcdir) -I$(top_builddir) \
	$(PCRE2_CFLAGS) $(YAML_CFLAGS) $(CRYPTO_CFLAGS) $(ZLIB_CFLAGS)
fuzz-coverage: $(FUZZ_HARNESSES)
	@rm -rf tests/fuzz/cov && $(MKDIR_P) tests/fuzz/cov
	@srcs=; for s in $(libvmdkit_la_SOURCES); do \
	  case $$s in *.c) srcs="$$srcs $(srcdir)/$$s" ;; esac; done; \
	for t in $(FUZZ_TARGETS); do \
	  echo "  COVLD    tests/fuzz/cov/$$t"; \
	  $(FUZZ_CC) $(FUZZ_COV_CFLAGS) -o tests/fuzz/cov/$$t \
	    $(srcdir)/tests/fuzz/$$t.c $$srcs $(FUZZ_LIBS) || exit 1; \
	  $(MKDIR_P) $(FUZZ_CORPUS_ROOT)/$$t; \
	  LLVM_PROFILE_FILE=tests/fuzz/cov/$$t.profraw tests/fuzz/cov/$$t \
	    -runs=0 $(FUZZ_CORPUS_ROOT)/$$t $(srcdir)/tests/fuzz/seeds/$$t \
	    >tests/fuzz/cov/$$t.log 2>&1 || exit 1; \
	  llvm-profdata merge -sparse -o tests/fuzz/cov/$$t.profdata \
	    tests/fuzz/cov/$$t.profraw || exit 1; \
	  case $$t in \
	  fuzz_descriptor) f="descriptor/descriptor.c descriptor/edit.c descriptor/reader.c descriptor/lines.c descriptor/validate.c" ;; \
	  fuzz_dict) f="descriptor/dict.c descriptor/reader.c descriptor/lines.c vmdk/vm/vmx.c" ;; \
	  fuzz_sparse) f="vmdk/disk/sparse.c vmdk/disk/stream.c" ;; \
	  fuzz_plan) f="vmdk/vm/plan.c" ;; \
	  esac; \
	  files=; for x in $$f; do test -f $(srcdir)/$$x && files="$$files $(srcdir)/$$x"; done; \
	  echo "== $$t"; \
	  llvm-cov report tests/fuzz/cov/$$t \
	    -instr-profile=tests/fuzz/cov/$$t.profdata $$files | \
	    sed -n '1p;/^-/d;/\.c /p;/^TOTAL/p' || exit 1; \
	done

clean-local: clean-fuzz
clean-fuzz:
	rm -rf tests/fuzz/obj tests/fuzz/libvmdkit-fuzz.a tests/fuzz/corpus tests/fuzz/cov
	for t in $(FUZZ_TARGETS); do rm -f tests/fuzz/$$t; done

.PHONY: fuzz fuzz-smoke fuzz-coverage clean-fuzz
