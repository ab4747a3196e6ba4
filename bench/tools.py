# SPDX-License-Identifier: GPL-2.0
"""What bench.py measures, one entry per tool: adding a tool is adding one
Tool(...) here (and, if none of the scenarios in bench/workload.c drives
its hook, one scenario there).

A Tool says which workload scenario drives the tool's hottest hook, which
tracepoints that hook is (the floor and the event counter attach to
exactly those), the bpftrace program written for the comparison (same keys
as the book's tool), and the kscope command lines to run.  bench.py adds,
for every tool: no tracing, the empty-program floor in kscope's default
mode and in the classic tracepoint mode that bpftrace uses.
"""


class Tool:
    def __init__(self, name, scenario, hooks, bpftrace, kscope=None,
                 bpftrace_extra=None, stack_hooks=None, streams=False,
                 per_hit=False, stacks=True, command=None, uprobes=False,
                 live_floor=False, note=""):
        self.name = name
        self.command = command or name  # the kscope subcommand
        self.scenario = scenario      # bench/workload.c scenario
        self.hooks = hooks            # tracepoints, "category/name"
        # the hooks where the tool takes a stack (the "floor + kstack" row)
        self.stack_hooks = stack_hooks or hooks
        self.bpftrace = bpftrace      # book-style program (the comparison)
        # extra bpftrace programs: label -> program text
        self.bpftrace_extra = bpftrace_extra or {}
        # label -> kscope arguments after the tool name; the first is the
        # default mode, the one whose targets are checked
        self.kscope = kscope or {"kscope": [], "kscope -s": ["-s"]}
        self.streams = streams        # ships each event to user space
        # the per-event cost comes from the kernel's BPF run-time
        # statistics instead of the workload's CPU time: for hooks that
        # fire on lock contention, whose rate the tracer itself changes,
        # and for handlers that run outside the workload (kworkers)
        # (docs/bench.md, "Per-hit tools")
        self.per_hit = per_hit
        self.stacks = stacks          # the tool takes kernel stacks at all
        # hooks are functions of the workload's C library (FUNC,
        # FUNC%return), probed in that process only: floor -m uprobe
        self.uprobes = uprobes
        # a leak tracer: also the floor that keeps a hash of live blocks
        # (insert at allocation, delete at free; floor -l), the work no
        # leak tracer can skip
        self.live_floor = live_floor
        self.note = note


def _bt(title, body, maps):
    """A bpftrace program that says when it is attached (BEGIN runs after
    every probe is attached; bench.py waits for the "Tracing" line) and
    clears its maps at the end (printing them is not what is measured)."""
    return ('BEGIN { printf("Tracing %s\\n"); }\n%s\nEND { %s }\n'
            % (title, body, " ".join("clear(%s);" % m for m in maps)))


def _lock_bt(title, pred, first, key):
    """bpftrace timing one wait from a thread's first contention_begin
    (accepted by pred; first says when a begin starts a wait) to its
    contention_end, as a histogram keyed by key."""
    return _bt(title,
               "tracepoint:lock:contention_begin /%s/\n"
               "{ $l = (uint64)args->lock_addr;\n"
               "  %s { @start[tid] = nsecs; @lock[tid] = $l; } }\n"
               "tracepoint:lock:contention_end\n"
               "/@lock[tid] == (uint64)args->lock_addr/\n"
               "{ @ns[%s] = hist(nsecs - @start[tid]);\n"
               "  delete(@start[tid]); delete(@lock[tid]); }"
               % (pred, first, key), ["@ns", "@start", "@lock"])


def _lock_tool(name, scenario, pred, first, note):
    return Tool(name, scenario,
                ["lock/contention_begin", "lock/contention_end"],
                # kscope takes the stack where the wait ends
                stack_hooks=["lock/contention_end"],
                bpftrace=_lock_bt(name, pred, first,
                                  "args->lock_addr, kstack(5), comm"),
                bpftrace_extra={"bpftrace lock": _lock_bt(
                    name, pred, first, "args->lock_addr, comm")},
                kscope={"kscope": [], "kscope -s": ["-s"],
                        "kscope -s --stack-depth 5":
                            ["-s", "--stack-depth", "5"]},
                per_hit=True, note=note)


TOOLS = [
    Tool("kmem", "open", ["kmem/kmalloc", "kmem/kmem_cache_alloc"],
         # book: kmem.bt, kernel stack (5 frames) + comm, stats of bytes
         bpftrace=_bt("kmem", "tracepoint:kmem:kmalloc,\n"
                      "tracepoint:kmem:kmem_cache_alloc\n"
                      "{ @bytes[kstack(5), comm] = "
                      "stats(args->bytes_alloc); }", ["@bytes"]),
         # kscope's default keys (call site, comm) in bpftrace
         bpftrace_extra={"bpftrace site": _bt(
             "kmem", "tracepoint:kmem:kmalloc,\n"
             "tracepoint:kmem:kmem_cache_alloc\n"
             "{ @bytes[args->call_site, comm] = "
             "stats(args->bytes_alloc); }", ["@bytes"])},
         kscope={"kscope": [], "kscope -s": ["-s"],
                  "kscope -s --stack-depth 5": ["-s", "--stack-depth", "5"]}),
    Tool("kpages", "pages", ["kmem/mm_page_alloc"],
         # book: kpages.bt, kernel stack (5 frames) + comm, count
         bpftrace=_bt("kpages", "tracepoint:kmem:mm_page_alloc\n"
                      "{ @pages[kstack(5), comm] = count(); }", ["@pages"]),
         kscope={"kscope": [], "kscope -s": ["-s"],
                 "kscope --stack-depth 5": ["--stack-depth", "5"]},
         note="kpages always takes a kernel stack (the tracepoint has no "
              "call site), so its default mode pays for a stack walk"),
    Tool("slabratetop", "open", ["kmem/kmem_cache_alloc"],
         # book: slabratetop.bt, cache name, count, printed every second;
         # the book uses kprobe:kmem_cache_alloc, a tracepoint here (this
         # host has no kprobes) that carries the cache name itself
         bpftrace=_bt("slabratetop", "tracepoint:kmem:kmem_cache_alloc\n"
                      "{ @[str(args->name)] = count(); }\n"
                      "interval:s:1 { time(); print(@); clear(@); }",
                      ["@"]),
         kscope={"kscope": []}, stacks=False),
    Tool("memleak", "open",
         ["kmem/kmalloc", "kmem/kmem_cache_alloc", "kmem/kfree",
          "kmem/kmem_cache_free", "kmem/mm_page_alloc", "kmem/mm_page_free",
          "percpu/percpu_alloc_percpu", "percpu/percpu_free_percpu"],
         stack_hooks=["kmem/kmalloc", "kmem/kmem_cache_alloc",
                      "kmem/mm_page_alloc", "percpu/percpu_alloc_percpu"],
         # book: bcc's memleak in kernel mode, as bpftrace: size and full
         # kernel stack per live address, deleted on free
         bpftrace=_bt("memleak",
                      "tracepoint:kmem:kmalloc, tracepoint:kmem:kmem_cache_alloc\n"
                      "{ @bytes[args->ptr] = args->bytes_alloc;"
                      " @stack[args->ptr] = kstack; }\n"
                      "tracepoint:kmem:kfree, tracepoint:kmem:kmem_cache_free\n"
                      "{ delete(@bytes[args->ptr]); delete(@stack[args->ptr]); }\n"
                      "tracepoint:kmem:mm_page_alloc\n"
                      "{ @pbytes[args->pfn] = 4096 << args->order;"
                      " @pstack[args->pfn] = kstack; }\n"
                      "tracepoint:kmem:mm_page_free\n"
                      "{ delete(@pbytes[args->pfn]); delete(@pstack[args->pfn]); }",
                      ["@bytes", "@stack", "@pbytes", "@pstack"]),
         kscope={"kscope": []}, live_floor=True,
         note="memleak keys every allocation by its kernel stack, so its "
              "default mode pays for a stack walk per allocation; frees "
              "are a map delete"),
    # memleak's user mode (-p PID): uprobes on the C library's malloc
    # (entry and return) and free.  bcc's memleak -p, as bpftrace: size at
    # entry, the address with its size and user stack at return, deleted
    # on free (probed at its entry, as bcc does)
    Tool("memleak-user", "malloc", ["malloc", "malloc%return", "free"],
         command="memleak", uprobes=True, stacks=False,
         bpftrace=_bt("memleak-user",
                      "uprobe:libc:malloc { @size[tid] = arg0; }\n"
                      "uretprobe:libc:malloc /@size[tid]/\n"
                      "{ @bytes[retval] = @size[tid];"
                      " @stack[retval] = ustack; delete(@size[tid]); }\n"
                      "uprobe:libc:free"
                      " { delete(@bytes[arg0]); delete(@stack[arg0]); }",
                      ["@size", "@bytes", "@stack"]),
         kscope={"kscope -p": ["-p", "{pid}"]},
         note="events are probe hits: malloc's entry and return and "
              "free's, 3 per iteration; kscope walks 16 frames of the user "
              "stack at malloc's return, the floor none"),
    # Lock tools: the book's mlock.bt keys mutex waits by lock, kstack(5)
    # and comm, timing mutex_lock with kprobes, which this host lacks; the
    # comparison here is that program on the contention tracepoints, with
    # kscope's definition of one wait (a thread's first contention_begin
    # to its contention_end), and ("bpftrace lock") keyed like kscope's
    # default, without the stack.
    _lock_tool("mlock", "pipe", "args->flags & 32",
               "if (@lock[tid] != $l)",
               note="the MUTEX contention of four writers on one pipe's "
                    "mutex"),
    _lock_tool("spinlock", "fown", "(args->flags & 1) && !(args->flags & 32)",
               "if (@lock[tid] == 0)",
               note="rwlock contention of a writer and a reader of one "
                    "file's owner (on two CPUs rwlock waiters are the "
                    "spin-type waits the tracepoints see)"),
    # workq: no tool in the book; bpftrace doing kscope's default, a
    # histogram of run time per work function
    Tool("workq", "refresh",
         ["workqueue/workqueue_execute_start",
          "workqueue/workqueue_execute_end"],
         bpftrace=_bt("workq",
                      "tracepoint:workqueue:workqueue_execute_start\n"
                      "{ @start[tid] = nsecs;"
                      " @fn[tid] = args->function; }\n"
                      "tracepoint:workqueue:workqueue_execute_end\n"
                      "/@start[tid]/\n"
                      "{ @ns[@fn[tid]] = hist(nsecs - @start[tid]);\n"
                      "  delete(@start[tid]); delete(@fn[tid]); }",
                      ["@ns", "@start", "@fn"]),
         kscope={"kscope": [], "kscope -Q": ["-Q"]},
         per_hit=True, stacks=False,
         note="the work items run in kworkers, not in the workload: the "
              "per-hit cost is the measure, the workload's CPU time "
              "hardly moves"),
]
