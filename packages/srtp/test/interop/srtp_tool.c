/*
 * Interop helper for test/libsrtp-interop.test.ts: applies libsrtp2 to
 * packets given as hex lines on stdin, one session for the whole run (so ROC
 * and replay state carry over from line to line), one output line each:
 * the resulting packet in hex, or "ERR <srtp_err_status_t>".
 *
 *   srtp_tool <protect|unprotect|protect_rtcp|unprotect_rtcp> <profile> <key||salt hex> [mki hex]
 *
 * Exit codes: 0 ok, 2 usage, 3 profile not supported by this libsrtp build
 * (e.g. GCM without a crypto backend).
 */
#include <srtp2/srtp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_profile(const char *name, srtp_policy_t *p) {
    if (!strcmp(name, "AES_CM_128_HMAC_SHA1_80")) {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    } else if (!strcmp(name, "AES_CM_128_HMAC_SHA1_32")) {
        /* RFC 4568 sec. 6.2.2: SRTCP keeps the 80-bit tag. */
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p->rtcp);
    } else if (!strcmp(name, "AES_256_CM_HMAC_SHA1_80")) {
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtp);
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    } else if (!strcmp(name, "AES_256_CM_HMAC_SHA1_32")) {
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_32(&p->rtp);
        srtp_crypto_policy_set_aes_cm_256_hmac_sha1_80(&p->rtcp);
    } else if (!strcmp(name, "AEAD_AES_128_GCM")) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p->rtcp);
    } else if (!strcmp(name, "AEAD_AES_256_GCM")) {
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtp);
        srtp_crypto_policy_set_aes_gcm_256_16_auth(&p->rtcp);
    } else {
        return -1;
    }
    return 0;
}

static int unhex(const char *s, unsigned char *out, int max) {
    int n = 0;
    while (s[0] && s[1] && s[0] != '\n' && s[0] != '\r') {
        unsigned int b;
        if (n >= max || sscanf(s, "%2x", &b) != 1) return -1;
        out[n++] = (unsigned char)b;
        s += 2;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s <protect|unprotect|protect_rtcp|unprotect_rtcp> <profile> <key||salt hex> [mki hex]\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1];
    int outbound = !strcmp(mode, "protect") || !strcmp(mode, "protect_rtcp");

    unsigned char key[64] = {0};
    if (unhex(argv[3], key, sizeof key) < 0) return 2;
    unsigned char mki[128];
    int mki_len = argc > 4 ? unhex(argv[4], mki, sizeof mki) : 0;
    if (mki_len < 0) return 2;

    srtp_policy_t policy;
    memset(&policy, 0, sizeof policy);
    if (set_profile(argv[2], &policy)) {
        fprintf(stderr, "unknown profile %s\n", argv[2]);
        return 2;
    }
    policy.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    policy.window_size = 128;
    policy.allow_repeat_tx = 0;
    srtp_master_key_t mk = {key, mki, (unsigned int)mki_len};
    srtp_master_key_t *keys[1] = {&mk};
    if (mki_len > 0) {
        policy.keys = keys;
        policy.num_master_keys = 1;
    } else {
        policy.key = key;
    }

    if (srtp_init() != srtp_err_status_ok) return 1;
    srtp_t session;
    srtp_err_status_t st = srtp_create(&session, &policy);
    if (st != srtp_err_status_ok) {
        printf("UNSUPPORTED %d\n", st);
        return 3;
    }

    static char line[8192];
    static unsigned char buf[4096];
    while (fgets(line, sizeof line, stdin)) {
        int len = unhex(line, buf, sizeof buf - SRTP_MAX_TRAILER_LEN - 8);
        if (len < 0) {
            printf("ERR badhex\n");
            continue;
        }
        if (!strcmp(mode, "protect"))
            st = mki_len ? srtp_protect_mki(session, buf, &len, 1, 0) : srtp_protect(session, buf, &len);
        else if (!strcmp(mode, "unprotect"))
            st = mki_len ? srtp_unprotect_mki(session, buf, &len, 1) : srtp_unprotect(session, buf, &len);
        else if (!strcmp(mode, "protect_rtcp"))
            st = mki_len ? srtp_protect_rtcp_mki(session, buf, &len, 1, 0) : srtp_protect_rtcp(session, buf, &len);
        else
            st = mki_len ? srtp_unprotect_rtcp_mki(session, buf, &len, 1) : srtp_unprotect_rtcp(session, buf, &len);
        if (st != srtp_err_status_ok) {
            printf("ERR %d\n", st);
            continue;
        }
        for (int i = 0; i < len; i++) printf("%02x", buf[i]);
        printf("\n");
    }
    srtp_dealloc(session);
    srtp_shutdown();
    return 0;
}
