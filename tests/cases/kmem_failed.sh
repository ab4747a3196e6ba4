# SPDX-License-Identifier: GPL-2.0
# tool: kmem
# modes: tp_btf raw_tp tracepoint
# where: host vm
#
# N kmallocs that fail (a 1 GiB pipe ring, beyond the largest kmalloc)
# and N that succeed, at the same call site: every mode counts exactly
# the N successful ones (tp_btf and raw_tp once counted the failures too).
. "$(dirname "$0")/_lib.sh"

# growing a pipe beyond fs.pipe-max-size needs CAP_SYS_RESOURCE, which
# a container's root may lack: raise the limit for the run instead
OLD_MAX=$(cat /proc/sys/fs/pipe-max-size)
trap 'echo "$OLD_MAX" > /proc/sys/fs/pipe-max-size' EXIT
echo 1073741824 > /proc/sys/fs/pipe-max-size

ks_start kmem -c kmfail
"$WL/kmalloc_fail" kmfail 2000 > "$OUT/truth.json"
ks_stop
