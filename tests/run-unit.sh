#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Run the cmocka unit tests (no root needed), each under valgrind when it
# is installed, so leaks and bad reads in the shared library fail the tier.
set -u
fail=0
for t in "$@"; do
	if command -v valgrind >/dev/null; then
		valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite "$t" || fail=1
	else
		echo "unit: valgrind missing, running $t without it"
		"$t" || fail=1
	fi
done
exit $fail
