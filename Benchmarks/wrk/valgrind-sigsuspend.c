// LD_PRELOADed into dhrt-node by callgrind.sh. valgrind 3.19's rt_sigsuspend wrapper edits the
// caller's signal mask in place (to keep its own kill signal deliverable); libdispatch passes a mask
// in read-only memory when the main thread parks after dispatch_main, and valgrind itself crashes
// with SIGSEGV ("the 'impossible' happened"). Handing the kernel a writable copy avoids that.
#define _GNU_SOURCE
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, (long)(_NSIG / 8));
}
