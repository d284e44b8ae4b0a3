/*
 * Two more jobs of the static tsrun-init program, beside a container's set-up (shim.c's main):
 *
 *  - `tsrun-init init [--] PROG ARGS…`: a tiny PID 1 in front of a container's program (tini and
 *    catatonit do the same). A program that is PID 1 of a PID namespace gets no signal it has no
 *    handler for (the kernel drops them), so a service that never installs a SIGTERM handler cannot
 *    be stopped by SIGTERM, and orphans reparented to it stay zombies unless it waits for them. This
 *    init forks the program, forwards every signal it receives to it, reaps every child, and exits
 *    with the program's status (128+N when signal N killed it). It is reached in the container
 *    through a read-only bind mount (src/api/init.ts).
 *
 *  - `tsrun-init reap PROG ARGS…`: a session's reaper (src/api/session.ts). fd 0 is the read end of
 *    a socket whose other end only the test process holds. A byte means "the session closed itself":
 *    exit. EOF means the test process is gone, however it ended (SIGKILL included: the kernel
 *    closes its fds): exec PROG (`tsrun --root R sweep --session ID`), which deletes the session's
 *    containers. It is C rather than Node so that it costs ~1 MB and nothing at start, and so that
 *    nothing of the test's runtime (its event loop, its signal handlers) decides whether it runs.
 *
 * Built only into tsrun-init (the Makefile compiles it with shim.c there): shim.c's main calls
 * tsrun_init_mode first.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

void tsrun_init_mode(int argc, char **argv);

static void say(const char *a, const char *b, const char *c) {
  char line[512];
  snprintf(line, sizeof line, "tsrun-init: %s%s%s\n", a, b, c);
  if (write(2, line, strlen(line)) < 0) {}
}

static _Noreturn void init_main(int argc, char **argv) {
  int first = 2;
  if (first < argc && strcmp(argv[first], "--") == 0) first++;
  if (first >= argc) {
    say("init: usage: tsrun-init init [--] PROGRAM [ARGS…]", "", "");
    _exit(2);
  }
  /* Every signal stays pending until sigwaitinfo takes it: blocked signals reach a PID 1 even
   * without a handler (the kernel drops only unblocked ones with the default action). */
  /* Without a PID namespace of its own the init is not PID 1, and orphans would go to the host's
   * init: as a child subreaper it gets them, and reaps them, all the same. */
  if (getpid() != 1) prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  /* The program gets a process group of its own and, if the init's group had the terminal (a
   * container with process.terminal), the terminal: a ^C typed there then reaches the program
   * alone. Were the init in the foreground group too, it would forward the same SIGINT once more,
   * and a program that takes a second ^C as "quit now" would. */
  int had_terminal = tcgetpgrp(STDIN_FILENO) == getpgrp();
  pid_t child = fork();
  if (child < 0) {
    say("init: fork: ", strerror(errno), "");
    _exit(125);
  }
  if (child > 0) setpgid(child, child); /* both sides, so neither waits for the other */
  if (child == 0) {
    setpgid(0, 0);
    /* Every signal is still blocked here, SIGTTOU included, so a background group may take the terminal. */
    if (had_terminal) tcsetpgrp(STDIN_FILENO, getpid());
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[first], argv + first);
    int e = errno;
    say("init: exec ", argv[first], e == ENOENT ? ": not found" : ": cannot be executed");
    _exit(e == ENOENT ? 127 : 126);
  }
  for (;;) {
    siginfo_t si;
    int sig = sigwaitinfo(&all, &si);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      /* Job-control signals from a terminal would stop the init itself if forwarded to the group;
       * the program gets them, the init never stops. */
      kill(child, sig);
      continue;
    }
    for (;;) {
      int status;
      pid_t p = waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p != child) continue; /* an orphan reparented to us: reaped, nothing more */
      /* The program is done: its status is ours. What it left running ends with the PID namespace
       * (or, without one, stays the container's to clean up, as with tini). */
      if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
      _exit(128 + WTERMSIG(status));
    }
  }
}

static _Noreturn void reap_main(int argc, char **argv) {
  if (argc < 3) {
    say("reap: usage: tsrun-init reap PROGRAM [ARGS…] (fd 0: the session's socket)", "", "");
    _exit(2);
  }
  /* Only stdio: nothing the test process left inheritable keeps anything of its alive. */
  syscall(SYS_close_range, 3U, ~0U, 0U);
  /* A terminal's ^C or hang-up is for the test process; the reaper outlives it on purpose. */
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);
  setsid(); /* already a session leader when Node spawned it detached; harmless otherwise */
  char byte;
  ssize_t n;
  while ((n = read(0, &byte, 1)) < 0 && errno == EINTR) {}
  if (n == 1) _exit(0); /* the session closed itself and deleted its containers */
  /* EOF (or a reset): the test process is gone. Its containers go now. */
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd >= 0) {
    dup2(null_fd, 0);
    close(null_fd);
  }
  execv(argv[2], argv + 2);
  say("reap: exec ", argv[2], ": failed");
  _exit(127);
}

/* Runs one of the modes above if argv names one; returns otherwise (the set-up of a container). */
void tsrun_init_mode(int argc, char **argv) {
  if (argc < 2) return;
  if (strcmp(argv[1], "init") == 0) init_main(argc, argv);
  if (strcmp(argv[1], "reap") == 0) reap_main(argc, argv);
}
