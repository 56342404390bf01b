# tests/ - every test of the project: the Check suites (one per module),
# the CLI golden and behaviour tests, the end-to-end tests against the
# oracles, and the drivers they use.  The fuzz harnesses and benchmarks
# have their own fragments (tests/fuzz/fuzz.mk, tests/bench/bench.mk).
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = $(SHELL)
AM_TESTS_ENVIRONMENT = \
	VMDKIT='$(abs_top_builddir)/vmdkit'; export VMDKIT; \
	VMDKIT_SRCDIR='$(abs_top_srcdir)'; export VMDKIT_SRCDIR; \
	VMDKIT_BUILDDIR='$(abs_top_builddir)'; export VMDKIT_BUILDDIR; \
	VMDKIT_CORPUS="$${VMDKIT_CORPUS:-$(abs_top_srcdir)/../shared/corpus}"; export VMDKIT_CORPUS; \
	CK_DEFAULT_TIMEOUT=300; export CK_DEFAULT_TIMEOUT;
CHECK_TEST_CFLAGS = $(PROJECT_CFLAGS) $(CHECK_CFLAGS)
CHECK_TEST_LIBS = libvmdkit.la $(CHECK_LIBS)
CHECK_FIXTURE = tests/fixture.c tests/fixture.h
EXTRA_DIST += tests/lib.sh tests/valgrind-wrap.sh tests/sanitize.sh

# The folders are the architecture: every include follows the layer rule
# and none closes a cycle (the rule is in the script; it tests itself
# first on a small tree with one of each mistake).
TESTS += tests/layers.sh
EXTRA_DIST += tests/layers.sh

# The test list, for .ci/run (which runs subsets under valgrind/ASan).
print-tests:
	@echo $(TESTS)
.PHONY: print-tests

## Check suites.  Suites that reach internal helpers the shared library
## does not export link the static archive (-static).
check_PROGRAMS += tests/check_number
TESTS += tests/check_number
tests_check_number_SOURCES = tests/check_number.c
tests_check_number_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_number_LDADD = $(CHECK_TEST_LIBS)
# vk_hex_* and vk_nomem are internal: the static archive.
tests_check_number_LDFLAGS = -static
# The fs and disk suites share their temporary folder.
TMPDIR_FIXTURE = tests/tmpdir.c tests/tmpdir.h
# The descriptor suites share their helpers.
TEXT_FIXTURE = tests/text_fixture.c tests/text_fixture.h
check_PROGRAMS += tests/check_descriptor
TESTS += tests/check_descriptor
tests_check_descriptor_SOURCES = tests/check_descriptor.c $(TEXT_FIXTURE)
tests_check_descriptor_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_descriptor_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_edit
TESTS += tests/check_edit
tests_check_edit_SOURCES = tests/check_edit.c $(TEXT_FIXTURE)
tests_check_edit_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_edit_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_validate
TESTS += tests/check_validate
tests_check_validate_SOURCES = tests/check_validate.c $(TEXT_FIXTURE)
tests_check_validate_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_validate_LDADD = $(CHECK_TEST_LIBS)
EXTRA_DIST += \
	tests/data/descriptor/.gitattributes \
	tests/data/descriptor/README \
	tests/data/descriptor/crlf.vmdk \
	tests/data/descriptor/emoji-name.vmdk \
	tests/data/descriptor/qemu-stale-after-cid.vmdk \
	tests/data/descriptor/qemu-unpadded-cid.vmdk \
	tests/data/descriptor/quote-in-name.vmdk
check_PROGRAMS += tests/check_alloc
TESTS += tests/check_alloc
tests_check_alloc_SOURCES = tests/check_alloc.c
tests_check_alloc_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_alloc_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_dict
TESTS += tests/check_dict
tests_check_dict_SOURCES = tests/check_dict.c
tests_check_dict_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_dict_LDADD = $(CHECK_TEST_LIBS)
# check_fs and check_disk link the static archive: they reach internal
# fs_* helpers that the shared library does not export.
check_PROGRAMS += tests/check_fs
TESTS += tests/check_fs
tests_check_fs_SOURCES = tests/check_fs.c $(TMPDIR_FIXTURE)
tests_check_fs_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_fs_LDADD = $(CHECK_TEST_LIBS)
tests_check_fs_LDFLAGS = -static
check_PROGRAMS += tests/check_disk
TESTS += tests/check_disk
tests_check_disk_SOURCES = tests/check_disk.c $(TMPDIR_FIXTURE)
tests_check_disk_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_disk_LDADD = $(CHECK_TEST_LIBS)
tests_check_disk_LDFLAGS = -static

# The transaction module: internal fs_txn_* calls, the static archive.
check_PROGRAMS += tests/check_txn
TESTS += tests/check_txn
tests_check_txn_SOURCES = tests/check_txn.c
tests_check_txn_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_txn_LDADD = $(CHECK_TEST_LIBS)
tests_check_txn_LDFLAGS = -static

check_PROGRAMS += tests/check_sparse
TESTS += tests/check_sparse
tests_check_sparse_SOURCES = tests/check_sparse.c
tests_check_sparse_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_sparse_LDADD = $(CHECK_TEST_LIBS)
tests_check_sparse_LDFLAGS = -static
EXTRA_DIST += tests/data/sparse/qemu-pattern.vmdk

# The shell tests run the real CLI; vmdk-read only writes out what
# vmdk_disk_read reads, which no vmdkit command does (see its comment).
check_PROGRAMS += tests/vmdk-read
tests_vmdk_read_SOURCES = tests/vmdk-read.c
tests_vmdk_read_CFLAGS = $(PROJECT_CFLAGS)
tests_vmdk_read_LDADD = libvmdkit.la

DISK_SHELL_TESTS = \
	tests/integration/disk-create.sh \
	tests/integration/disk-delta.sh \
	tests/integration/disk-read.sh
TESTS += $(DISK_SHELL_TESTS)
EXTRA_DIST += $(DISK_SHELL_TESTS)
check_PROGRAMS += tests/check_base
TESTS += tests/check_base
tests_check_base_SOURCES = tests/check_base.c $(CHECK_FIXTURE)
tests_check_base_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_base_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_verify
TESTS += tests/check_verify
tests_check_verify_SOURCES = tests/check_verify.c $(CHECK_FIXTURE)
tests_check_verify_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_verify_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_leaf
TESTS += tests/check_leaf
tests_check_leaf_SOURCES = tests/check_leaf.c $(CHECK_FIXTURE)
tests_check_leaf_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_leaf_LDADD = $(CHECK_TEST_LIBS)

TESTS += tests/integration/leaf-e2e.sh tests/integration/leaf-mono.sh \
	tests/integration/leaf-exdev.sh
EXTRA_DIST += tests/integration/leaf-e2e.sh tests/integration/leaf-mono.sh \
	tests/integration/leaf-exdev.sh

check_PROGRAMS += tests/check_plan
TESTS += tests/check_plan
tests_check_plan_SOURCES = tests/check_plan.c
tests_check_plan_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_plan_LDADD = $(CHECK_TEST_LIBS)

EXTRA_DIST += \
	tests/data/plan/README \
	tests/data/plan/bad-memory.yaml \
	tests/data/plan/bad-vmx-key.yaml \
	tests/data/plan/bad-yaml.yaml \
	tests/data/plan/dotdot-folder.yaml \
	tests/data/plan/duplicate-folder.yaml \
	tests/data/plan/duplicate-key.yaml \
	tests/data/plan/duplicate-name.yaml \
	tests/data/plan/empty-leaves.yaml \
	tests/data/plan/empty.yaml \
	tests/data/plan/good.yaml \
	tests/data/plan/list-name.yaml \
	tests/data/plan/no-leaves.yaml \
	tests/data/plan/no-name.yaml \
	tests/data/plan/slash-name.yaml \
	tests/data/plan/two-docs.yaml \
	tests/data/plan/unknown-key.yaml \
	tests/data/plan/unknown-top-key.yaml \
	tests/data/plan/zero-cpus.yaml
# The suite calls the private helpers of vmdk/vm/vm.h, which the shared
# library does not export: link the static archive instead.
check_PROGRAMS += tests/check_vmx
TESTS += tests/check_vmx
tests_check_vmx_SOURCES = tests/check_vmx.c
tests_check_vmx_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_vmx_LDADD = $(CHECK_TEST_LIBS)
tests_check_vmx_LDFLAGS = -static
EXTRA_DIST += \
	tests/data/vmx/master.vmx \
	tests/data/vmx/master-leaf.vmx \
	tests/data/vmx/default.vmx \
	tests/data/vmx/single.vmsd
# The suites of the operations layer (vmdk/ops/), one per command file,
# share the temporary folder and the trees of tests/fixture.c.
check_PROGRAMS += tests/check_check
TESTS += tests/check_check
tests_check_check_SOURCES = tests/check_check.c $(CHECK_FIXTURE)
tests_check_check_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_check_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_dependents
TESTS += tests/check_dependents
tests_check_dependents_SOURCES = tests/check_dependents.c $(CHECK_FIXTURE)
tests_check_dependents_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_dependents_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_relocate
TESTS += tests/check_relocate
tests_check_relocate_SOURCES = tests/check_relocate.c $(CHECK_FIXTURE)
tests_check_relocate_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_relocate_LDADD = $(CHECK_TEST_LIBS)
check_PROGRAMS += tests/check_repair
TESTS += tests/check_repair
tests_check_repair_SOURCES = tests/check_repair.c $(CHECK_FIXTURE)
tests_check_repair_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_repair_LDADD = $(CHECK_TEST_LIBS)
EXTRA_DIST += vmdk/CHECKS.md

CHAINMGMT_SHELL_TESTS = \
	tests/integration/bundle-check.sh \
	tests/integration/bundle-corpus.sh \
	tests/integration/check-leftovers.sh \
	tests/integration/relocate.sh \
	tests/integration/repair-cid.sh
TESTS += $(CHAINMGMT_SHELL_TESTS)
EXTRA_DIST += $(CHAINMGMT_SHELL_TESTS)
EXTRA_DIST += tests/golden/corpus-check.text

# check-info-repeats.sh tests vmdk/ops/check.c's cap on repeated info
# findings (made with the memory work on promote and check, issue #7).
PROMOTE_SHELL_TESTS = \
	tests/integration/promote-sparse.sh \
	tests/integration/promote-stream.sh \
	tests/integration/promote-interrupt.sh \
	tests/integration/promote-fullclone.sh \
	tests/integration/promote-cli.sh \
	tests/integration/check-info-repeats.sh
TESTS += $(PROMOTE_SHELL_TESTS)
EXTRA_DIST += $(PROMOTE_SHELL_TESTS)

check_PROGRAMS += tests/check_promote
TESTS += tests/check_promote
tests_check_promote_SOURCES = tests/check_promote.c
tests_check_promote_CFLAGS = $(CHECK_TEST_CFLAGS)
tests_check_promote_LDADD = $(CHECK_TEST_LIBS)

# Benchmark, not a test (run by hand; figures in the commit/report).
EXTRA_DIST += tests/bench/promote.sh
# End-to-end robustness: concurrent clones, hostile paths, failpoints,
# kill -9.  The fuzz harnesses are in tests/fuzz/fuzz.mk.
TESTS += tests/integration/concurrent-clone.sh
EXTRA_DIST += tests/integration/concurrent-clone.sh
TESTS += tests/integration/hostile-paths.sh
EXTRA_DIST += tests/integration/hostile-paths.sh
TESTS += tests/integration/kill9.sh
EXTRA_DIST += tests/integration/kill9.sh
TESTS += tests/integration/failpoints.sh
EXTRA_DIST += tests/integration/failpoints.sh
# create and desc edits through the transaction module: dry run == run,
# look-alikes kept, a kill before every operation, another host's staging.
TESTS += tests/integration/txn.sh
EXTRA_DIST += tests/integration/txn.sh
# Portability findings proved against the consumers (issue: canonical writer)
TESTS += tests/integration/portability.sh
EXTRA_DIST += tests/integration/portability.sh

# CLI tests: golden files (run in samples/, so outputs hold relative paths)
# and behaviour checks.  `make update-golden` rewrites tests/golden/* from
# the current build: review the diff before committing it.
TESTS += \
	tests/cli/golden.sh \
	tests/cli/desc.sh \
	tests/cli/usage.sh \
	tests/cli/create.sh \
	tests/cli/clone.sh \
	tests/cli/check-corpus.sh \
	tests/cli/base-and-leaves.sh
EXTRA_DIST += \
	tests/cli/golden.sh \
	tests/cli/desc.sh \
	tests/cli/usage.sh \
	tests/cli/create.sh \
	tests/cli/clone.sh \
	tests/cli/check-corpus.sh \
	tests/cli/base-and-leaves.sh \
	tests/golden \
	tests/data/cli \
	samples/Master.vmdk \
	samples/Data.vmdk \
	samples/Server-000001.vmdk \
	samples/Odd.vmdk \
	samples/master/Master.vmx \
	samples/master/Master.vmsd \
	samples/master/Master.vmdk \
	samples/odd/Odd.vmx \
	samples/odd/Odd.vmsd \
	samples/odd/Odd.vmdk \
	samples/plan.yaml \
	samples/tiny/Tiny.vmdk \
	samples/tiny/Tiny-flat.vmdk

update-golden: vmdkit
	VMDKIT='$(abs_top_builddir)/vmdkit' VMDKIT_SRCDIR='$(abs_top_srcdir)' \
	VMDKIT_BUILDDIR='$(abs_top_builddir)' VMDKIT_UPDATE_GOLDEN=1 \
		$(SHELL) '$(abs_top_srcdir)/tests/cli/golden.sh'
.PHONY: update-golden

# The documents users read (man pages, README tutorial, completion, the
# sample program, exit codes, output formats) and the install.
DOCS_TESTS = \
	tests/docs/help-vs-man.sh \
	tests/docs/readme-tutorial.sh \
	tests/docs/completion.sh \
	tests/docs/example.sh \
	tests/docs/formats.sh \
	tests/docs/exit-codes.sh \
	tests/install.sh
TESTS += $(DOCS_TESTS)
EXTRA_DIST += $(DOCS_TESTS) tests/docs/formats.golden

# The durability policies the bench measures (clone --sync) are tested
# like any feature.
TESTS += tests/integration/clone-sync.sh
EXTRA_DIST += tests/integration/clone-sync.sh
