/*
 * A minimal native Lambda runtime (`provided*` bootstrap) for the invoke benchmark.
 *
 *   gcc -O2 -o bootstrap bootstrap.c
 *
 * Speaks the Lambda Runtime API at $AWS_LAMBDA_RUNTIME_API over one keep-alive TCP connection with
 * TCP_NODELAY: GET /next, then POST /{id}/response with {"runtime":"c","event":<the event>}, forever.
 * Each request is one write(). If the event contains "sleep_ms":N the response is delayed by N ms
 * (the benchmark uses this to hold N invocations in flight at once, i.e. to warm N environments).
 * Any protocol surprise ends the process with status 1 and a message on stderr.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (7 * 1024 * 1024)

static char *inbuf;          /* bytes read from the socket, not yet consumed */
static size_t in_len;
static char *outbuf;
static int sock = -1;
static char host_header[300];

static void die(const char *what) {
    fprintf(stderr, "bench bootstrap: %s (errno %d: %s)\n", what, errno, strerror(errno));
    exit(1);
}

static void write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(sock, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            die("write failed");
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Reads one HTTP response; returns its status, copies selected headers, points *body at its body
 * (valid until the next call) and sets *body_len. */
static int read_response(char *request_id, size_t request_id_cap, char **body, size_t *body_len,
                         size_t *consumed) {
    char *end;
    for (;;) {
        end = in_len ? memmem(inbuf, in_len, "\r\n\r\n", 4) : NULL;
        if (end) break;
        if (in_len >= BUF_SIZE) die("response head too large");
        ssize_t r = read(sock, inbuf + in_len, BUF_SIZE - in_len);
        if (r == 0) { errno = 0; die("connection closed by the Runtime API"); }
        if (r < 0) { if (errno == EINTR) continue; die("read failed"); }
        in_len += (size_t)r;
    }
    size_t head_len = (size_t)(end - inbuf) + 4;
    int status = 0;
    if (sscanf(inbuf, "HTTP/1.%*d %d", &status) != 1) { errno = 0; die("malformed status line"); }
    size_t content_length = 0;
    if (request_id) request_id[0] = '\0';
    /* walk the header lines */
    char *line = memchr(inbuf, '\n', head_len) + 1;
    while (line < inbuf + head_len - 2) {
        char *eol = memchr(line, '\r', (size_t)(inbuf + head_len - line));
        if (!eol) break;
        char *colon = memchr(line, ':', (size_t)(eol - line));
        if (colon) {
            size_t name_len = (size_t)(colon - line);
            char *value = colon + 1;
            while (value < eol && *value == ' ') value++;
            size_t value_len = (size_t)(eol - value);
            if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
                content_length = strtoul(value, NULL, 10);
            } else if (request_id && name_len == 29 && strncasecmp(line, "Lambda-Runtime-Aws-Request-Id", 29) == 0) {
                if (value_len >= request_id_cap) { errno = 0; die("request id too long"); }
                memcpy(request_id, value, value_len);
                request_id[value_len] = '\0';
            }
        }
        line = eol + 2;
    }
    if (head_len + content_length > BUF_SIZE) { errno = 0; die("body too large"); }
    while (in_len < head_len + content_length) {
        ssize_t r = read(sock, inbuf + in_len, BUF_SIZE - in_len);
        if (r == 0) { errno = 0; die("connection closed mid-body"); }
        if (r < 0) { if (errno == EINTR) continue; die("read failed"); }
        in_len += (size_t)r;
    }
    *body = inbuf + head_len;
    *body_len = content_length;
    *consumed = head_len + content_length;
    return status;
}

static void consume(size_t n) {
    memmove(inbuf, inbuf + n, in_len - n);
    in_len -= n;
}

int main(void) {
    const char *api = getenv("AWS_LAMBDA_RUNTIME_API");
    if (!api) { errno = 0; die("AWS_LAMBDA_RUNTIME_API is not set"); }
    char host[256];
    const char *colon = strrchr(api, ':');
    if (!colon || (size_t)(colon - api) >= sizeof host) { errno = 0; die("bad AWS_LAMBDA_RUNTIME_API"); }
    memcpy(host, api, (size_t)(colon - api));
    host[colon - api] = '\0';
    int port = atoi(colon + 1);
    snprintf(host_header, sizeof host_header, "%s", api);

    inbuf = malloc(BUF_SIZE);
    outbuf = malloc(BUF_SIZE + 1024);
    if (!inbuf || !outbuf) die("out of memory");

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) { errno = 0; die("Runtime API host is not an IPv4 address"); }
    sock = socket(AF_INET, SOCK_STREAM, 0);
    if (sock < 0) die("socket failed");
    int one = 1;
    setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(sock, (struct sockaddr *)&addr, sizeof addr) != 0) die("connect failed");

    char next_req[512];
    int next_len = snprintf(next_req, sizeof next_req,
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench-c\r\n\r\n", host_header);

    static const char prefix[] = "{\"runtime\":\"c\",\"event\":";
    char request_id[256];
    for (;;) {
        write_all(next_req, (size_t)next_len);
        char *event;
        size_t event_len, used;
        int status = read_response(request_id, sizeof request_id, &event, &event_len, &used);
        if (status != 200) { errno = 0; fprintf(stderr, "bench bootstrap: /next answered %d\n", status); exit(1); }
        if (!request_id[0]) { errno = 0; die("no Lambda-Runtime-Aws-Request-Id"); }

        char *sleep_at = event_len ? memmem(event, event_len, "\"sleep_ms\":", 11) : NULL;
        if (sleep_at) {
            long ms = strtol(sleep_at + 11, NULL, 10);
            if (ms > 0 && ms < 60000) {
                struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
                nanosleep(&ts, NULL);
            }
        }
        size_t body_len = sizeof prefix - 1 + event_len + 1;
        int head_len = snprintf(outbuf, 1024,
            "POST /2018-06-01/runtime/invocation/%s/response HTTP/1.1\r\nHost: %s\r\nUser-Agent: bench-c\r\n"
            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n", request_id, host_header, body_len);
        char *p = outbuf + head_len;
        memcpy(p, prefix, sizeof prefix - 1); p += sizeof prefix - 1;
        memcpy(p, event, event_len); p += event_len;
        *p++ = '}';
        consume(used);
        write_all(outbuf, (size_t)(p - outbuf));

        char *ack;
        size_t ack_len;
        status = read_response(NULL, 0, &ack, &ack_len, &used);
        if (status != 202) {
            fprintf(stderr, "bench bootstrap: /response answered %d: %.*s\n", status, (int)ack_len, ack);
            exit(1);
        }
        consume(used);
    }
}
