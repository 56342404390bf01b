#!/bin/sh
# LOG_COMPILER for `make check TESTS="tests/check_..."`: runs a Check suite
# under valgrind memcheck (no fork, so every check runs inside valgrind);
# any memory error or definite/indirect leak fails the suite.
CK_FORK=no; export CK_FORK
exec "${VMDKIT_BUILDDIR:?}/libtool" --mode=execute valgrind -q \
	--leak-check=full --errors-for-leak-kinds=definite,indirect \
	--error-exitcode=1 "$@"
