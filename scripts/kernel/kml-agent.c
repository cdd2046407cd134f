// SPDX-License-Identifier: GPL-2.0-only
/*
 * DOC: kml-agent — the kmodlab guest agent.
 *
 * Runs in the QEMU guest's initramfs (started by scripts/kernel/init) on a serial port given as
 * argv[1] (the second 16550, /dev/ttyS1; the kernel console stays on ttyS0). It answers framed
 * requests (kml-frame.h) one at a time:
 *
 *   read PATH              -> "0" DATA            | "-errno" ""
 *   write PATH DATA        -> what write(2) returned (bytes, or -errno; an open failure -errno)
 *   exec TIMEOUT_MS ARGV…  -> "exit N" | "signal N" | "timeout", STDOUT, STDERR
 *   ping                   -> "pong"
 *   poweroff               -> "ok", then sync and power the machine off
 *
 * write is one write(2) of the whole buffer on a fresh fd, exactly like `echo -n X > knob`, so
 * the host sees the kernel's own return value of a sysfs store. Built static with the host's gcc
 * at `kmodlab kernel prepare` time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/reboot.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "kml-frame.h"

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void buf_put(struct buf *b, const void *src, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		if (!b->p)
			_exit(111);
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
	b->p[b->len] = 0;
}

static void buf_netstring(struct buf *b, const void *src, size_t n)
{
	char hdr[32];
	int h = snprintf(hdr, sizeof(hdr), "%zu:", n);
	buf_put(b, hdr, h);
	buf_put(b, src, n);
	buf_put(b, ",", 1);
}

static void buf_netstr(struct buf *b, const char *s)
{
	buf_netstring(b, s, strlen(s));
}

static int serial_fd;

static void write_all(int fd, const unsigned char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			_exit(112);
		}
		p += w;
		n -= w;
	}
}

static void send_frame(char kind, unsigned long id, struct buf *payload)
{
	char hdr[96];
	int h = snprintf(hdr, sizeof(hdr), "\n" KML_MAGIC "%c %lu %zu %08x\n", kind, id, payload->len,
			 kml_crc32(payload->p ? payload->p : (unsigned char *)"", payload->len));
	write_all(serial_fd, (unsigned char *)hdr, h);
	write_all(serial_fd, payload->p ? payload->p : (unsigned char *)"", payload->len);
	write_all(serial_fd, (unsigned char *)"\n", 1);
}

/* Split a payload into netstring fields; returns the count or -1 if malformed. */
static int parse_fields(unsigned char *p, size_t len, char **fields, size_t *lens, int max)
{
	size_t i = 0;
	int n = 0;
	while (i < len) {
		size_t l = 0, digits = 0;
		while (i < len && p[i] >= '0' && p[i] <= '9') {
			l = l * 10 + (p[i] - '0');
			i++;
			digits++;
		}
		if (!digits || i >= len || p[i] != ':' || n >= max)
			return -1;
		i++;
		if (l > len - i || i + l >= len || p[i + l] != ',')
			return -1;
		fields[n] = (char *)p + i;
		lens[n] = l;
		p[i + l] = 0; /* fields become C strings; the ',' is not needed any more */
		n++;
		i += l + 1;
	}
	return n;
}

static void op_read(unsigned long id, const char *path)
{
	struct buf out = { 0 }, data = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char st[32] = "0";
	if (fd < 0) {
		snprintf(st, sizeof(st), "%d", -errno);
	} else {
		unsigned char tmp[65536];
		for (;;) {
			ssize_t r = read(fd, tmp, sizeof(tmp));
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0) {
				snprintf(st, sizeof(st), "%d", -errno);
				break;
			}
			if (r == 0)
				break;
			buf_put(&data, tmp, r);
		}
		close(fd);
	}
	buf_netstr(&out, st);
	buf_netstring(&out, data.p ? (char *)data.p : "", data.len);
	send_frame('R', id, &out);
	free(out.p);
	free(data.p);
}

static void op_write(unsigned long id, const char *path, const char *data, size_t len)
{
	struct buf out = { 0 };
	char st[32];
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(st, sizeof(st), "%d", -errno);
	} else {
		ssize_t w;
		do
			w = write(fd, data, len);
		while (w < 0 && errno == EINTR);
		snprintf(st, sizeof(st), "%zd", w < 0 ? (ssize_t)-errno : w);
		close(fd);
	}
	buf_netstr(&out, st);
	send_frame('R', id, &out);
	free(out.p);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void op_exec(unsigned long id, long timeout_ms, char **argv)
{
	struct buf out = { 0 }, so = { 0 }, se = { 0 };
	int po[2], pe[2];
	char st[48];
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		snprintf(st, sizeof(st), "exit 127");
		goto reply;
	}
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[0], argv);
		dprintf(2, "kml-agent: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	long long deadline = now_ms() + timeout_ms;
	int open_fds = 2, timed_out = 0;
	struct pollfd pf[2] = { { po[0], POLLIN, 0 }, { pe[0], POLLIN, 0 } };
	while (open_fds > 0) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			timed_out = 1;
			kill(-pid, SIGKILL);
			break;
		}
		int r = poll(pf, 2, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			unsigned char tmp[65536];
			ssize_t n = read(pf[i].fd, tmp, sizeof(tmp));
			if (n > 0) {
				buf_put(i ? &se : &so, tmp, n);
			} else if (n == 0 || errno != EINTR) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (pf[i].fd >= 0)
			close(pf[i].fd);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (timed_out)
		snprintf(st, sizeof(st), "timeout");
	else if (WIFEXITED(status))
		snprintf(st, sizeof(st), "exit %d", WEXITSTATUS(status));
	else
		snprintf(st, sizeof(st), "signal %d", WTERMSIG(status));
reply:
	buf_netstr(&out, st);
	buf_netstring(&out, so.p ? (char *)so.p : "", so.len);
	buf_netstring(&out, se.p ? (char *)se.p : "", se.len);
	send_frame('R', id, &out);
	free(out.p);
	free(so.p);
	free(se.p);
}

static void handle(unsigned long id, unsigned char *payload, size_t len)
{
	char *f[256];
	size_t l[256];
	struct buf out = { 0 };
	int n = parse_fields(payload, len, f, l, 255);
	if (n < 1) {
		buf_netstr(&out, "error");
		buf_netstr(&out, "malformed request");
		send_frame('R', id, &out);
	} else if (!strcmp(f[0], "ping")) {
		buf_netstr(&out, "pong");
		send_frame('R', id, &out);
	} else if (!strcmp(f[0], "read") && n == 2) {
		op_read(id, f[1]);
	} else if (!strcmp(f[0], "write") && n == 3) {
		op_write(id, f[1], f[2], l[2]);
	} else if (!strcmp(f[0], "exec") && n >= 3) {
		f[n] = NULL;
		op_exec(id, strtol(f[1], NULL, 10), &f[2]);
	} else if (!strcmp(f[0], "poweroff")) {
		buf_netstr(&out, "ok");
		send_frame('R', id, &out);
		tcdrain(serial_fd);
		sync();
		reboot(RB_POWER_OFF);
	} else {
		buf_netstr(&out, "error");
		buf_netstr(&out, "unknown request");
		send_frame('R', id, &out);
	}
	free(out.p);
}

/* Find and run every complete, checked frame in the input; drop garbage before the magic. */
static void consume(struct buf *in)
{
	size_t mlen = strlen(KML_MAGIC);
	for (;;) {
		unsigned char *m = in->len >= mlen ? memmem(in->p, in->len, KML_MAGIC, mlen) : NULL;
		if (!m) {
			/* keep a possible partial magic at the end */
			size_t keep = in->len < mlen ? in->len : mlen - 1;
			memmove(in->p, in->p + in->len - keep, keep);
			in->len = keep;
			return;
		}
		size_t off = m - in->p;
		memmove(in->p, m, in->len - off);
		in->len -= off;
		unsigned char *nl = memchr(in->p, '\n', in->len < 96 ? in->len : 96);
		if (!nl) {
			if (in->len >= 96)
				goto skip; /* no header line end in reach: garbage */
			return;
		}
		char kind;
		unsigned long id;
		size_t plen;
		unsigned int crc;
		char hdr[100];
		memcpy(hdr, in->p, nl - in->p);
		hdr[nl - in->p] = 0;
		if (sscanf(hdr, KML_MAGIC "%c %lu %zu %8x", &kind, &id, &plen, &crc) != 4 ||
		    plen > KML_MAX_PAYLOAD)
			goto skip;
		size_t start = nl - in->p + 1;
		if (in->len < start + plen)
			return; /* wait for the rest */
		if (kml_crc32(in->p + start, plen) != crc || kind != 'Q')
			goto skip;
		unsigned char *payload = malloc(plen + 1);
		memcpy(payload, in->p + start, plen);
		payload[plen] = 0;
		memmove(in->p, in->p + start + plen, in->len - start - plen);
		in->len -= start + plen;
		handle(id, payload, plen);
		free(payload);
		continue;
skip:
		memmove(in->p, in->p + 1, in->len - 1);
		in->len--;
	}
}

int main(int argc, char **argv)
{
	const char *dev = argc > 1 ? argv[1] : "/dev/ttyS1";
	kml_crc_init();
	signal(SIGPIPE, SIG_IGN);
	serial_fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (serial_fd < 0) {
		fprintf(stderr, "kml-agent: open %s: %s\n", dev, strerror(errno));
		return 1;
	}
	struct termios t;
	if (tcgetattr(serial_fd, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(serial_fd, TCSANOW, &t);
	}
	struct utsname u;
	uname(&u);
	struct buf hello = { 0 };
	buf_netstr(&hello, u.release);
	buf_netstr(&hello, "ready");
	send_frame('H', 0, &hello);
	free(hello.p);

	struct buf in = { 0 };
	unsigned char tmp[65536];
	for (;;) {
		ssize_t r = read(serial_fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r < 0)
				fprintf(stderr, "kml-agent: read: %s\n", strerror(errno));
			sleep(1);
			continue;
		}
		buf_put(&in, tmp, r);
		consume(&in);
	}
}
