# SPDX-License-Identifier: GPL-2.0
# The same checks as kmem_stack_kinds: at least 40 distinct stacks (a
# stack-trace map of one entry holds one), none dropped, every filp
# allocation of the files made counted under its stack.
from kmem_stack_kinds import check  # noqa: F401
