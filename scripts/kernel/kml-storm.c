// SPDX-License-Identifier: GPL-2.0-only
/*
 * DOC: kml-storm — N concurrent loads of one module at the same moment, in the guest.
 *
 *   kml-storm finit N FILE [PARAMS]             N threads: finit_module(fd, PARAMS, 0)
 *   kml-storm finit-compressed N FILE [PARAMS]  same with MODULE_INIT_COMPRESSED_FILE (4)
 *   kml-storm init N FILE [PARAMS]              N threads: init_module(image, len, PARAMS)
 *   kml-storm modprobe N NAME [PARAMS…]         N processes: exec modprobe NAME PARAMS…
 *
 * Every thread (or child) does its own preparation first (open the file: every fd refers to the
 * same inode, as when udev workers open the same path; or read the image), then all wait on one
 * barrier, so the system calls start within microseconds of each other. A sampler thread reads
 * VmallocUsed from /proc/meminfo every millisecond from before the release until the last call
 * returned, which gives the storm's peak.
 *
 * Output, one line each:  "V <baseline kB> <peak kB> <samples>",
 *   "R <idx> <ret> <errno name or 0> <µs from release to return>" for syscalls,
 *   "P <idx> <exit code> <µs> <last stderr line>" for modprobe.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

enum mode { M_FINIT, M_FINIT_COMPRESSED, M_INIT, M_MODPROBE };

struct call {
	int idx;
	int fd;
	void *image;
	size_t len;
	long ret;
	int err;
	long long usec;
};

static enum mode mode;
static const char *params = "";
static pthread_barrier_t barrier;
static struct timespec released;
static atomic_int running;

static long long usec_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1000000LL + (b.tv_nsec - a->tv_nsec) / 1000;
}

static long vmalloc_used_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmallocUsed: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static long peak_kb, samples;

static void *sampler(void *unused)
{
	(void)unused;
	struct timespec ts = { 0, 1000000 };
	do {
		long kb = vmalloc_used_kb();
		if (kb > peak_kb)
			peak_kb = kb;
		samples++;
		nanosleep(&ts, NULL);
	} while (atomic_load(&running) > 0);
	return NULL;
}

static void *loader(void *arg)
{
	struct call *c = arg;
	pthread_barrier_wait(&barrier);
	long r;
	if (mode == M_INIT)
		r = syscall(SYS_init_module, c->image, c->len, params);
	else
		r = syscall(SYS_finit_module, c->fd, params,
			    mode == M_FINIT_COMPRESSED ? MODULE_INIT_COMPRESSED_FILE : 0);
	c->err = r < 0 ? errno : 0;
	c->ret = r;
	c->usec = usec_since(&released);
	atomic_fetch_sub(&running, 1);
	return NULL;
}

static void *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st))
		return NULL;
	char *p = malloc(st.st_size ? st.st_size : 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, p + got, st.st_size - got);
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	*len = got;
	return p;
}

static int storm_syscalls(int n, const char *path)
{
	struct call *calls = calloc(n, sizeof(*calls));
	pthread_t *th = calloc(n, sizeof(*th));
	pthread_t samp;
	pthread_barrier_init(&barrier, NULL, n + 1);
	for (int i = 0; i < n; i++) {
		calls[i].idx = i;
		if (mode == M_INIT) {
			calls[i].image = read_file(path, &calls[i].len);
			if (!calls[i].image) {
				fprintf(stderr, "kml-storm: %s: %s\n", path, strerror(errno));
				return 2;
			}
		} else {
			calls[i].fd = open(path, O_RDONLY | O_CLOEXEC);
			if (calls[i].fd < 0) {
				fprintf(stderr, "kml-storm: %s: %s\n", path, strerror(errno));
				return 2;
			}
		}
	}
	long base = vmalloc_used_kb();
	peak_kb = base;
	atomic_store(&running, n);
	pthread_create(&samp, NULL, sampler, NULL);
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, loader, &calls[i]);
	clock_gettime(CLOCK_MONOTONIC, &released);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pthread_join(samp, NULL);
	printf("V %ld %ld %ld\n", base, peak_kb, samples);
	for (int i = 0; i < n; i++)
		printf("R %d %ld %s %lld\n", i, calls[i].ret,
		       calls[i].err ? strerrorname_np(calls[i].err) : "0", calls[i].usec);
	return 0;
}

static int storm_modprobe(int n, char **argv)
{
	int gate[2];
	pid_t *pids = calloc(n, sizeof(*pids));
	int *errfd = calloc(n, sizeof(*errfd));
	long long *usec = calloc(n, sizeof(*usec));
	int *status = calloc(n, sizeof(*status));
	pthread_t samp;
	if (pipe(gate))
		return 2;
	for (int i = 0; i < n; i++) {
		int pe[2];
		if (pipe(pe))
			return 2;
		pids[i] = fork();
		if (pids[i] == 0) {
			char c;
			close(gate[1]);
			close(pe[0]);
			dup2(pe[1], 2);
			/* the gate: every child blocks here until the parent closes the write end */
			while (read(gate[0], &c, 1) < 0 && errno == EINTR)
				;
			execvp("modprobe", argv);
			_exit(127);
		}
		close(pe[1]);
		errfd[i] = pe[0];
	}
	close(gate[0]);
	long base = vmalloc_used_kb();
	peak_kb = base;
	atomic_store(&running, 1);
	pthread_create(&samp, NULL, sampler, NULL);
	clock_gettime(CLOCK_MONOTONIC, &released);
	close(gate[1]);
	for (int done = 0; done < n; done++) {
		int st;
		pid_t p = wait(&st);
		for (int i = 0; i < n; i++)
			if (pids[i] == p) {
				status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
				usec[i] = usec_since(&released);
			}
	}
	atomic_store(&running, 0);
	pthread_join(samp, NULL);
	printf("V %ld %ld %ld\n", base, peak_kb, samples);
	for (int i = 0; i < n; i++) {
		char msg[1024];
		ssize_t r = read(errfd[i], msg, sizeof(msg) - 1);
		msg[r > 0 ? r : 0] = 0;
		for (char *q = msg; *q; q++)
			if (*q == '\n' || *q == '\r')
				*q = (q[1] ? ' ' : 0);
		printf("P %d %d %lld %s\n", i, status[i], usec[i], msg);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: kml-storm finit|finit-compressed|init|modprobe N FILE|NAME [PARAMS]\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (n < 1)
		return 2;
	if (!strcmp(argv[1], "finit"))
		mode = M_FINIT;
	else if (!strcmp(argv[1], "finit-compressed"))
		mode = M_FINIT_COMPRESSED;
	else if (!strcmp(argv[1], "init"))
		mode = M_INIT;
	else if (!strcmp(argv[1], "modprobe"))
		mode = M_MODPROBE;
	else
		return 2;
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	if (mode == M_MODPROBE) {
		/* argv for modprobe: "modprobe" NAME PARAMS… */
		argv[2] = "modprobe";
		return storm_modprobe(n, &argv[2]);
	}
	if (argc > 4)
		params = argv[4];
	return storm_syscalls(n, argv[3]);
}
