/*
 * libsrtp2 side of bench/srtp-bench.ts: protect+unprotect pairs per second
 * for 12-octet-header + 160-octet PCMU packets with AES_CM_128_HMAC_SHA1_80,
 * the same work the TypeScript side measures.
 *
 *   libsrtp_bench <seconds>   prints "<pairs> <elapsed seconds>"
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 2.0;
    unsigned char key[30];
    for (int i = 0; i < 30; i++) key[i] = (unsigned char)(i * 7 + 1);

    srtp_policy_t tx_policy, rx_policy;
    memset(&tx_policy, 0, sizeof tx_policy);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx_policy.rtp);
    srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&tx_policy.rtcp);
    tx_policy.key = key;
    tx_policy.window_size = 128;
    rx_policy = tx_policy;
    tx_policy.ssrc.type = ssrc_any_outbound;
    rx_policy.ssrc.type = ssrc_any_inbound;

    if (srtp_init() != srtp_err_status_ok) return 1;
    srtp_t tx, rx;
    if (srtp_create(&tx, &tx_policy) != srtp_err_status_ok || srtp_create(&rx, &rx_policy) != srtp_err_status_ok) return 1;

    unsigned char tmpl[12 + 160];
    memset(tmpl, 0xd5, sizeof tmpl); /* PCMU silence */
    tmpl[0] = 0x80;
    tmpl[1] = 0x00;
    tmpl[8] = 0x11; tmpl[9] = 0x22; tmpl[10] = 0x33; tmpl[11] = 0x44;
    unsigned char buf[sizeof tmpl + SRTP_MAX_TRAILER_LEN];

    unsigned long pairs = 0;
    unsigned int seq = 0;
    double start = now(), end = start + seconds, t = start;
    while (t < end) {
        /* Check the clock every 1024 pairs so timing costs little. */
        for (int i = 0; i < 1024; i++) {
            memcpy(buf, tmpl, sizeof tmpl);
            buf[2] = (unsigned char)(seq >> 8);
            buf[3] = (unsigned char)seq;
            unsigned int ts = seq * 160;
            buf[4] = ts >> 24; buf[5] = ts >> 16; buf[6] = ts >> 8; buf[7] = ts;
            seq++;
            int len = sizeof tmpl;
            if (srtp_protect(tx, buf, &len) != srtp_err_status_ok) return 2;
            if (srtp_unprotect(rx, buf, &len) != srtp_err_status_ok || len != (int)sizeof tmpl) return 3;
            pairs++;
        }
        t = now();
    }
    printf("%lu %.6f\n", pairs, t - start);
    srtp_dealloc(tx);
    srtp_dealloc(rx);
    srtp_shutdown();
    return 0;
}
