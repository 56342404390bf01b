#!/bin/sh
. "$VMDKIT_SRCDIR/tests/lib.sh"
exit 77
