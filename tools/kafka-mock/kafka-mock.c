/*
 * kafka-mock: a librdkafka mock Kafka cluster driven over stdin/stdout.
 *
 * Usage: kafka-mock [brokers=3]
 *
 * Prints exactly one line "BOOTSTRAP <host:port,...>" on stdout, then reads
 * one command per line on stdin and answers each with exactly one line,
 * "OK" or "ERR <message>":
 *
 *   topic <name> <partitions> <replication>
 *   broker-down <id>            broker-up <id>          (id -1 = all brokers)
 *   leader <topic> <partition> <brokerId>               (brokerId -1 = none)
 *   request-errors <apiKey> <count> <errcode>           (-195 = disconnect)
 *   rtt <brokerId> <ms>
 *   coordinator <group|transaction> <key> <brokerId>
 *   controller <brokerId>       (set to 1 at start; the mock's default is 0)
 *   rebalance-delay <ms>        (group.initial.rebalance.delay.ms, default 3000)
 *   ping
 *   quit                        (answers OK, then exits 0)
 *
 * EOF on stdin destroys the cluster and exits 0. The process dies with its
 * parent (PR_SET_PDEATHSIG). Set KAFKA_MOCK_DEBUG (to "1" or to a librdkafka
 * debug context list such as "mock,protocol") to get librdkafka's debug log
 * on stderr; otherwise librdkafka's logging is silenced.
 *
 * Note: librdkafka's mock auto-creates unknown topics when a partition's
 * leader is set. To keep typos from passing silently, `leader` only accepts
 * topics created through the `topic` command.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "rdkafka.h"
#include "rdkafka_mock.h"

#define MAX_TOKENS 8
#define MAX_REQUEST_ERRORS 100000

static rd_kafka_mock_cluster_t *mcluster;

/* Topics created through the `topic` command. */
static char **topics;
static size_t topic_cnt, topic_cap;

static void reply_ok(void) {
        fputs("OK\n", stdout);
        fflush(stdout);
}

static void reply_err(const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        size_t i;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        /* One reply = one line, whatever the message contains. */
        for (i = 0; buf[i]; i++)
                if (buf[i] == '\n' || buf[i] == '\r')
                        buf[i] = ' ';
        printf("ERR %s\n", buf);
        fflush(stdout);
}

static void reply_kafka(rd_kafka_resp_err_t err) {
        if (!err)
                reply_ok();
        else
                reply_err("%s (%d): %s", rd_kafka_err2name(err), (int)err,
                          rd_kafka_err2str(err));
}

/* Strict integer parsing: the whole token must be a number within range. */
static int parse_int(const char *s, long min, long max, long *out) {
        char *end;
        long v;
        if (!s || !*s)
                return -1;
        errno = 0;
        v     = strtol(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static int topic_known(const char *name) {
        size_t i;
        for (i = 0; i < topic_cnt; i++)
                if (!strcmp(topics[i], name))
                        return 1;
        return 0;
}

static void topic_remember(const char *name) {
        if (topic_known(name))
                return;
        if (topic_cnt == topic_cap) {
                size_t cap  = topic_cap ? topic_cap * 2 : 64;
                char **next = realloc(topics, cap * sizeof(*topics));
                if (!next) {
                        fprintf(stderr, "kafka-mock: out of memory\n");
                        exit(1);
                }
                topics    = next;
                topic_cap = cap;
        }
        topics[topic_cnt++] = strdup(name);
}

static void silent_log(const rd_kafka_t *rk, int level, const char *fac,
                       const char *buf) {
        (void)rk;
        (void)level;
        (void)fac;
        (void)buf;
}

/* Handles one command line; returns 1 if the program should exit. */
static int handle(char *line) {
        char *tok[MAX_TOKENS + 1];
        int n = 0;
        char *save = NULL, *t;
        long a, b, c;

        for (t = strtok_r(line, " \t\r\n", &save); t && n <= MAX_TOKENS;
             t = strtok_r(NULL, " \t\r\n", &save))
                tok[n++] = t;

        if (n == 0) {
                reply_err("empty command");
                return 0;
        }

#define ARGS(cnt, usage)                                                       \
        do {                                                                   \
                if (n != (cnt) + 1) {                                          \
                        reply_err("usage: %s", usage);                         \
                        return 0;                                              \
                }                                                              \
        } while (0)

        if (!strcmp(tok[0], "ping")) {
                ARGS(0, "ping");
                reply_ok();

        } else if (!strcmp(tok[0], "quit")) {
                reply_ok();
                return 1;

        } else if (!strcmp(tok[0], "topic")) {
                ARGS(3, "topic <name> <partitions> <replication>");
                if (parse_int(tok[2], 1, 100000, &a) ||
                    parse_int(tok[3], 1, 1000, &b)) {
                        reply_err("topic: partitions and replication must be "
                                  "positive integers");
                        return 0;
                }
                {
                        rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
                            mcluster, tok[1], (int)a, (int)b);
                        if (!err)
                                topic_remember(tok[1]);
                        reply_kafka(err);
                }

        } else if (!strcmp(tok[0], "broker-down") ||
                   !strcmp(tok[0], "broker-up")) {
                int down = !strcmp(tok[0], "broker-down");
                ARGS(1, down ? "broker-down <id>" : "broker-up <id>");
                if (parse_int(tok[1], -1, INT_MAX, &a)) {
                        reply_err("%s: bad broker id '%s'", tok[0], tok[1]);
                        return 0;
                }
                reply_kafka(
                    down ? rd_kafka_mock_broker_set_down(mcluster, (int32_t)a)
                         : rd_kafka_mock_broker_set_up(mcluster, (int32_t)a));

        } else if (!strcmp(tok[0], "leader")) {
                ARGS(3, "leader <topic> <partition> <brokerId>");
                if (parse_int(tok[2], 0, INT_MAX, &a) ||
                    parse_int(tok[3], -1, INT_MAX, &b)) {
                        reply_err("leader: bad partition or broker id");
                        return 0;
                }
                if (!topic_known(tok[1])) {
                        reply_err("leader: unknown topic '%s' (only topics "
                                  "created with 'topic' are accepted; the "
                                  "mock would silently auto-create it)",
                                  tok[1]);
                        return 0;
                }
                reply_kafka(rd_kafka_mock_partition_set_leader(
                    mcluster, tok[1], (int32_t)a, (int32_t)b));

        } else if (!strcmp(tok[0], "request-errors")) {
                rd_kafka_resp_err_t *errs;
                long i;
                ARGS(3, "request-errors <apiKey> <count> <errcode>");
                if (parse_int(tok[1], 0, 32767, &a) ||
                    parse_int(tok[2], 1, MAX_REQUEST_ERRORS, &b) ||
                    parse_int(tok[3], INT_MIN, INT_MAX, &c)) {
                        reply_err("request-errors: bad apiKey, count (1..%d) "
                                  "or errcode",
                                  MAX_REQUEST_ERRORS);
                        return 0;
                }
                errs = malloc((size_t)b * sizeof(*errs));
                if (!errs) {
                        reply_err("request-errors: out of memory");
                        return 0;
                }
                for (i = 0; i < b; i++)
                        errs[i] = (rd_kafka_resp_err_t)c;
                rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)a,
                                                        (size_t)b, errs);
                free(errs);
                reply_ok();

        } else if (!strcmp(tok[0], "rtt")) {
                ARGS(2, "rtt <brokerId> <ms>");
                if (parse_int(tok[1], -1, INT_MAX, &a) ||
                    parse_int(tok[2], 0, INT_MAX, &b)) {
                        reply_err("rtt: bad broker id or milliseconds");
                        return 0;
                }
                reply_kafka(rd_kafka_mock_broker_set_rtt(mcluster, (int32_t)a,
                                                         (int)b));

        } else if (!strcmp(tok[0], "coordinator")) {
                ARGS(3, "coordinator <group|transaction> <key> <brokerId>");
                if (strcmp(tok[1], "group") && strcmp(tok[1], "transaction")) {
                        reply_err("coordinator: kind must be 'group' or "
                                  "'transaction'");
                        return 0;
                }
                if (parse_int(tok[3], 0, INT_MAX, &a)) {
                        reply_err("coordinator: bad broker id '%s'", tok[3]);
                        return 0;
                }
                reply_kafka(rd_kafka_mock_coordinator_set(mcluster, tok[1],
                                                          tok[2], (int32_t)a));

        } else if (!strcmp(tok[0], "controller")) {
                ARGS(1, "controller <brokerId>");
                if (parse_int(tok[1], -1, INT_MAX, &a)) {
                        reply_err("controller: bad broker id '%s'", tok[1]);
                        return 0;
                }
                rd_kafka_mock_set_controller_id(mcluster, (int32_t)a);
                reply_ok();

        } else if (!strcmp(tok[0], "rebalance-delay")) {
                ARGS(1, "rebalance-delay <ms>");
                if (parse_int(tok[1], 0, INT_MAX, &a)) {
                        reply_err("rebalance-delay: bad milliseconds '%s'",
                                  tok[1]);
                        return 0;
                }
                rd_kafka_mock_group_initial_rebalance_delay_ms(mcluster,
                                                               (int32_t)a);
                reply_ok();

        } else {
                reply_err("unknown command '%s'", tok[0]);
        }
#undef ARGS
        return 0;
}

int main(int argc, char **argv) {
        pid_t parent = getppid();
        const char *debug = getenv("KAFKA_MOCK_DEBUG");
        const char *expected_parent = getenv("KAFKA_MOCK_PARENT_PID");
        long brokers = 3;
        char errstr[512];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char *line = NULL;
        size_t cap = 0;
        int quit = 0;

        /* Never outlive the parent. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1) {
                perror("kafka-mock: prctl(PR_SET_PDEATHSIG)");
                return 1;
        }
        if (getppid() != parent)
                return 1; /* parent died before prctl took effect */
        /* Catches a parent that died even before the first getppid(). */
        if (expected_parent && *expected_parent &&
            (long)getppid() != strtol(expected_parent, NULL, 10))
                return 1;

        if (argc > 2 || (argc == 2 && parse_int(argv[1], 1, 1000, &brokers))) {
                fprintf(stderr, "usage: %s [brokers=3]\n", argv[0]);
                return 2;
        }

        conf = rd_kafka_conf_new();
        if (debug && *debug && strcmp(debug, "0")) {
                if (rd_kafka_conf_set(conf, "debug",
                                      strcmp(debug, "1") ? debug : "mock",
                                      errstr,
                                      sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                        fprintf(stderr, "kafka-mock: debug: %s\n", errstr);
                        return 2;
                }
        } else {
                rd_kafka_conf_set_log_cb(conf, silent_log);
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "kafka-mock: rd_kafka_new: %s\n", errstr);
                return 1;
        }

        mcluster = rd_kafka_mock_cluster_new(rk, (int)brokers);
        if (!mcluster) {
                fprintf(stderr, "kafka-mock: rd_kafka_mock_cluster_new failed\n");
                rd_kafka_destroy(rk);
                return 1;
        }
        /* The mock reports controller id 0 (no such broker) unless told
         * otherwise; admin clients need a real one. */
        rd_kafka_mock_set_controller_id(mcluster, 1);

        printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mcluster));
        fflush(stdout);

        while (!quit && getline(&line, &cap, stdin) != -1)
                quit = handle(line);
        free(line);

        rd_kafka_mock_cluster_destroy(mcluster);
        rd_kafka_destroy(rk);
        return 0;
}
