// vcube-probe: the test guest's workload, run by /init as a static binary.
//
// One single-threaded poll loop that
//  - prints "vcube-heartbeat seq=N uptime=S counter=C" on stdout (the serial
//    console) once per second, C being the last disk counter acknowledged;
//  - writes an increasing counter to the disk with O_DIRECT|O_DSYNC: each step
//    writes journal slot (counter % JOURNAL_SLOTS) and then the main record, and
//    the counter counts as acknowledged only when both writes returned;
//  - answers HTTP GET on a TCP port with a JSON status (hostname, uptime, last
//    counter, heartbeat sequence).
// The on-disk format is described in guest/README.md. On start the probe resumes
// from the highest valid counter found on the disk, so a reboot never goes back.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
  BLOCK_SIZE = 4096,
  JOURNAL_SLOTS = 8,
  MAX_CLIENTS = 16,
  REQUEST_MAX = 2048,
  CLIENT_DEADLINE_MS = 2000,
  DISK_RETRY_MS = 1000,
};

static const char MAGIC[8] = {'V', 'C', 'U', 'B', 'E', 'C', 'T', 'R'};

// The first bytes of every record block; the rest of the block is zero.
struct record {
  char magic[8];
  uint64_t counter;
  uint64_t counter_inverted;  // ~counter: detects a torn or foreign block
  uint64_t boot;              // how many times a probe started on this disk
  uint64_t uptime_ms;         // guest uptime when written
};

struct options {
  const char* disk_path;  // NULL: no disk workload
  int port;
  int write_interval_ms;
};

struct disk {
  int fd;                // -1 when absent or failed
  unsigned char* block;  // BLOCK_SIZE bytes, BLOCK_SIZE aligned
  uint64_t next_counter;
  uint64_t acked;  // last counter acknowledged by both writes; 0: none yet
  uint64_t boot;
};

struct client {
  int fd;  // -1: free slot
  size_t len;
  int64_t deadline_ms;
  char request[REQUEST_MAX];
};

struct probe {
  struct options opt;
  struct disk disk;
  int listen_fd;
  struct client clients[MAX_CLIENTS];
  uint64_t seq;
  int64_t next_beat_ms;
  int64_t next_write_ms;
};

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_options(int argc, char** argv, struct options* opt) {
  opt->disk_path = "/dev/vda";
  opt->port = 80;
  opt->write_interval_ms = 10;
  int c;
  while ((c = getopt(argc, argv, "d:p:i:")) != -1) {
    if (c == 'd') {
      opt->disk_path = optarg[0] ? optarg : NULL;
    } else if (c == 'p') {
      opt->port = atoi(optarg);
    } else if (c == 'i') {
      opt->write_interval_ms = atoi(optarg);
    } else {
      return -1;
    }
  }
  if (opt->port <= 0 || opt->port > 65535 || opt->write_interval_ms < 0)
    return -1;
  return 0;
}

static int record_valid(const struct record* r) {
  return memcmp(r->magic, MAGIC, sizeof MAGIC) == 0 && r->counter_inverted == ~r->counter;
}

static int read_block(struct disk* d, off_t offset, struct record* out) {
  if (pread(d->fd, d->block, BLOCK_SIZE, offset) != BLOCK_SIZE)
    return -1;
  memcpy(out, d->block, sizeof *out);
  return record_valid(out) ? 0 : -1;
}

// Finds the highest valid counter in the main record and the journal.
static void disk_recover(struct disk* d) {
  struct record r;
  uint64_t best = 0;
  uint64_t boot = 0;
  for (int slot = -1; slot < JOURNAL_SLOTS; ++slot) {
    if (read_block(d, (off_t)(slot + 1) * BLOCK_SIZE, &r) == 0 && r.counter >= best) {
      best = r.counter;
      boot = r.boot;
    }
  }
  d->acked = best;
  d->next_counter = best + 1;
  d->boot = boot + 1;
}

static void disk_open(struct disk* d, const char* path) {
  d->fd = -1;
  if (path == NULL)
    return;
  if (posix_memalign((void**)&d->block, BLOCK_SIZE, BLOCK_SIZE) != 0)
    return;
  d->fd = open(path, O_RDWR | O_DIRECT | O_DSYNC | O_CLOEXEC);
  if (d->fd < 0) {
    printf("vcube-probe disk=%s error=\"%s\"\n", path, strerror(errno));
    return;
  }
  disk_recover(d);
  printf("vcube-probe disk=%s boot=%llu resume_counter=%llu\n", path, (unsigned long long)d->boot,
         (unsigned long long)d->acked);
}

static int write_record(struct disk* d, off_t offset, uint64_t counter) {
  struct record r = {.counter = counter,
                     .counter_inverted = ~counter,
                     .boot = d->boot,
                     .uptime_ms = (uint64_t)now_ms()};
  memcpy(r.magic, MAGIC, sizeof MAGIC);
  memset(d->block, 0, BLOCK_SIZE);
  memcpy(d->block, &r, sizeof r);
  return pwrite(d->fd, d->block, BLOCK_SIZE, offset) == BLOCK_SIZE ? 0 : -1;
}

// One step: journal slot first, then the main record at offset 0.
static int disk_step(struct disk* d) {
  uint64_t c = d->next_counter;
  off_t slot = (off_t)(c % JOURNAL_SLOTS) + 1;
  if (write_record(d, slot * BLOCK_SIZE, c) != 0 || write_record(d, 0, c) != 0) {
    printf("vcube-probe disk-error counter=%llu error=\"%s\"\n", (unsigned long long)c,
           strerror(errno));
    return -1;
  }
  d->acked = c;
  d->next_counter = c + 1;
  return 0;
}

static int listen_on(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr*)&addr, sizeof addr) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void client_close(struct client* c) {
  close(c->fd);
  c->fd = -1;
  c->len = 0;
}

static void accept_clients(struct probe* p) {
  for (;;) {
    int fd = accept4(p->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0)
      return;
    struct client* slot = NULL;
    for (int i = 0; i < MAX_CLIENTS && slot == NULL; ++i) {
      if (p->clients[i].fd < 0)
        slot = &p->clients[i];
    }
    if (slot == NULL) {
      close(fd);  // full: the client retries
      continue;
    }
    slot->fd = fd;
    slot->len = 0;
    slot->deadline_ms = now_ms() + CLIENT_DEADLINE_MS;
  }
}

// Copies the hostname keeping only characters that need no JSON escaping.
static void safe_hostname(char* out, size_t size) {
  char raw[256] = "";
  gethostname(raw, sizeof raw - 1);
  size_t n = 0;
  for (const char* s = raw; *s && n + 1 < size; ++s) {
    if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
        *s == '-' || *s == '.' || *s == '_') {
      out[n++] = *s;
    }
  }
  out[n] = '\0';
}

static void respond(struct probe* p, struct client* c) {
  char host[128];
  safe_hostname(host, sizeof host);
  int64_t up = now_ms();
  int get = strncmp(c->request, "GET ", 4) == 0;
  char body[512];
  int body_len = snprintf(body, sizeof body,
                          "{\"hostname\":\"%s\",\"uptime_s\":%lld.%03lld,\"counter\":%llu,"
                          "\"heartbeat_seq\":%llu,\"boot\":%llu,\"disk\":%s}\n",
                          host, (long long)(up / 1000), (long long)(up % 1000),
                          (unsigned long long)p->disk.acked, (unsigned long long)p->seq,
                          (unsigned long long)p->disk.boot, p->disk.fd >= 0 ? "true" : "false");
  char out[1024];
  int len =
      snprintf(out, sizeof out,
               "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
               "Connection: close\r\n\r\n%s",
               get ? "200 OK" : "405 Method Not Allowed", get ? body_len : 0, get ? body : "");
  // The response is far smaller than a socket buffer: one non-blocking send.
  ssize_t sent = send(c->fd, out, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)sent;
  client_close(c);
}

static void read_client(struct probe* p, struct client* c) {
  ssize_t n = recv(c->fd, c->request + c->len, REQUEST_MAX - 1 - c->len, 0);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
    client_close(c);
    return;
  }
  if (n < 0)
    return;
  c->len += (size_t)n;
  c->request[c->len] = '\0';
  if (strstr(c->request, "\r\n\r\n") != NULL || strstr(c->request, "\n\n") != NULL) {
    respond(p, c);
  } else if (c->len >= REQUEST_MAX - 1) {
    client_close(c);  // too long
  }
}

static void heartbeat(struct probe* p, int64_t now) {
  ++p->seq;
  printf("vcube-heartbeat seq=%llu uptime=%lld.%02lld counter=%llu\n", (unsigned long long)p->seq,
         (long long)(now / 1000), (long long)(now % 1000 / 10), (unsigned long long)p->disk.acked);
  p->next_beat_ms += 1000;
  if (p->next_beat_ms <= now)
    p->next_beat_ms = now + 1000;  // stalled: no burst
}

static void disk_tick(struct probe* p, int64_t now) {
  if (p->disk.fd < 0 || now < p->next_write_ms)
    return;
  int ok = disk_step(&p->disk) == 0;
  p->next_write_ms = now_ms() + (ok ? p->opt.write_interval_ms : DISK_RETRY_MS);
}

static int64_t next_timeout_ms(const struct probe* p, int64_t now) {
  int64_t next = p->next_beat_ms;
  if (p->disk.fd >= 0 && p->next_write_ms < next)
    next = p->next_write_ms;
  for (int i = 0; i < MAX_CLIENTS; ++i) {
    if (p->clients[i].fd >= 0 && p->clients[i].deadline_ms < next) {
      next = p->clients[i].deadline_ms;
    }
  }
  return next > now ? next - now : 0;
}

static void poll_once(struct probe* p, int64_t now) {
  struct pollfd fds[MAX_CLIENTS + 1];
  struct client* owners[MAX_CLIENTS + 1];
  int n = 0;
  if (p->listen_fd >= 0) {
    fds[n] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
    owners[n++] = NULL;
  }
  for (int i = 0; i < MAX_CLIENTS; ++i) {
    if (p->clients[i].fd < 0)
      continue;
    if (p->clients[i].deadline_ms <= now) {
      client_close(&p->clients[i]);
      continue;
    }
    fds[n] = (struct pollfd){.fd = p->clients[i].fd, .events = POLLIN};
    owners[n++] = &p->clients[i];
  }
  if (poll(fds, (nfds_t)n, (int)next_timeout_ms(p, now)) <= 0)
    return;
  for (int i = 0; i < n; ++i) {
    if (fds[i].revents == 0)
      continue;
    if (owners[i] == NULL) {
      accept_clients(p);
    } else {
      read_client(p, owners[i]);
    }
  }
}

int main(int argc, char** argv) {
  static struct probe p;
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (parse_options(argc, argv, &p.opt) != 0) {
    fprintf(stderr, "usage: vcube-probe [-d DISK|-d ''] [-p PORT] [-i WRITE_INTERVAL_MS]\n");
    return 2;
  }
  for (int i = 0; i < MAX_CLIENTS; ++i)
    p.clients[i].fd = -1;
  disk_open(&p.disk, p.opt.disk_path);
  p.listen_fd = listen_on(p.opt.port);
  if (p.listen_fd < 0)
    printf("vcube-probe http port=%d error=\"%s\"\n", p.opt.port, strerror(errno));
  int64_t start = now_ms();
  p.next_beat_ms = start;
  p.next_write_ms = start;
  for (;;) {
    int64_t now = now_ms();
    if (now >= p.next_beat_ms)
      heartbeat(&p, now);
    disk_tick(&p, now);
    poll_once(&p, now_ms());
  }
}
