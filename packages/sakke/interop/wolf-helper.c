/*
 * wolf-helper: the independent implementation for @imslab/sakke's interop
 * test and bench. Drives Debian's libwolfssl (built with WOLFCRYPT_HAVE_ECCSI
 * and WOLFCRYPT_HAVE_SAKKE) with keys given in hex on argv:
 *
 *   eccsi-sign   KPAK ID SSK PVT MSG [N]  -> "result <r||s||PVT hex>"
 *   eccsi-verify KPAK ID MSG SIG [N]      -> "result 1" or "result 0"
 *   sakke-encap  Z ID SSV [N]             -> "result <R||H hex>"
 *   sakke-decap  Z ID RSK SED [N]         -> "result <SSV hex>" (exit 3 on failure)
 *
 * Points are 0x04 || x || y as RFC 6507/6508 print them; the helper strips
 * the 0x04 where wolfSSL wants raw x || y. With N > 1 the operation runs N
 * times and "ns <elapsed nanoseconds>" is printed too (for the bench).
 * Exit codes: 0 ok, 2 usage / bad hex, 3 a wolfSSL call failed (its code on stderr).
 */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>
#include <wolfssl/wolfcrypt/eccsi.h>
#include <wolfssl/wolfcrypt/sakke.h>
#include <wolfssl/wolfcrypt/random.h>
#include <wolfssl/wolfcrypt/wolfmath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if !defined(WOLFCRYPT_HAVE_ECCSI) || !defined(WOLFCRYPT_HAVE_SAKKE)
#error "this libwolfssl was built without ECCSI or SAKKE"
#endif

static unsigned char *unhex(const char *h, word32 *len) {
  size_t n = strlen(h);
  if (n % 2) { fprintf(stderr, "odd hex length\n"); exit(2); }
  unsigned char *b = malloc(n / 2 + 1);
  for (size_t i = 0; i < n / 2; i++) {
    unsigned v;
    if (sscanf(h + 2 * i, "%2x", &v) != 1) { fprintf(stderr, "bad hex\n"); exit(2); }
    b[i] = (unsigned char)v;
  }
  *len = (word32)(n / 2);
  return b;
}

static void puthex(const char *tag, const unsigned char *b, word32 n) {
  printf("%s ", tag);
  for (word32 i = 0; i < n; i++) printf("%02X", b[i]);
  printf("\n");
}

static void check(int ret, const char *what) {
  if (ret != 0) { fprintf(stderr, "%s failed: %d\n", what, ret); exit(3); }
}

/* Raw x || y from 0x04 || x || y (wolfSSL's import/decode functions take raw coordinates). */
static const unsigned char *raw(const unsigned char *p, word32 *n) {
  if (*n % 2 == 1 && p[0] == 0x04) { (*n)--; return p + 1; }
  return p;
}

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: see the header comment\n"); return 2; }
  const char *cmd = argv[1];
  WC_RNG rng;
  check(wc_InitRng(&rng), "wc_InitRng");
  long long t0 = 0, t1 = 0;
  int loops = 1;

  if (strcmp(cmd, "eccsi-sign") == 0 || strcmp(cmd, "eccsi-verify") == 0) {
    int sign = cmd[6] == 's';
    if (argc < (sign ? 7 : 6)) { fprintf(stderr, "missing arguments\n"); return 2; }
    word32 kpakN, idN, msgN;
    unsigned char *kpak = unhex(argv[2], &kpakN), *id = unhex(argv[3], &idN);
    EccsiKey key;
    check(wc_InitEccsiKey(&key, NULL, INVALID_DEVID), "wc_InitEccsiKey");
    const unsigned char *kr = raw(kpak, &kpakN);
    check(wc_ImportEccsiPublicKey(&key, kr, kpakN, 0), "wc_ImportEccsiPublicKey");
    ecc_point *pvt = wc_ecc_new_point();
    byte hs[WC_MAX_DIGEST_SIZE];
    byte hsSz = sizeof(hs);
    if (sign) {
      word32 sskN, pvtN;
      unsigned char *ssk = unhex(argv[4], &sskN), *pvtb = unhex(argv[5], &pvtN);
      unsigned char *msg = unhex(argv[6], &msgN);
      if (argc > 7) loops = atoi(argv[7]);
      mp_int sskm;
      check(mp_init(&sskm), "mp_init");
      check(wc_DecodeEccsiSsk(&key, ssk, sskN, &sskm), "wc_DecodeEccsiSsk");
      const unsigned char *pr = raw(pvtb, &pvtN);
      check(wc_DecodeEccsiPvt(&key, pr, pvtN, pvt), "wc_DecodeEccsiPvt");
      int valid = 0;
      check(wc_ValidateEccsiPair(&key, WC_HASH_TYPE_SHA256, id, idN, &sskm, pvt, &valid), "wc_ValidateEccsiPair");
      if (!valid) { fprintf(stderr, "wc_ValidateEccsiPair: pair is not valid\n"); return 3; }
      check(wc_HashEccsiId(&key, WC_HASH_TYPE_SHA256, id, idN, pvt, hs, &hsSz), "wc_HashEccsiId");
      check(wc_SetEccsiHash(&key, hs, hsSz), "wc_SetEccsiHash");
      check(wc_SetEccsiPair(&key, &sskm, pvt), "wc_SetEccsiPair");
      byte sig[256];
      word32 sigSz = sizeof(sig);
      t0 = now_ns();
      for (int i = 0; i < loops; i++) {
        sigSz = sizeof(sig);
        check(wc_SignEccsiHash(&key, &rng, WC_HASH_TYPE_SHA256, msg, msgN, sig, &sigSz), "wc_SignEccsiHash");
      }
      t1 = now_ns();
      puthex("result", sig, sigSz);
    } else {
      unsigned char *msg = unhex(argv[4], &msgN);
      word32 sigN;
      unsigned char *sig = unhex(argv[5], &sigN);
      if (argc > 6) loops = atoi(argv[6]);
      int verified = 0;
      t0 = now_ns();
      for (int i = 0; i < loops; i++) {
        hsSz = sizeof(hs);
        check(wc_DecodeEccsiPvtFromSig(&key, sig, sigN, pvt), "wc_DecodeEccsiPvtFromSig");
        check(wc_HashEccsiId(&key, WC_HASH_TYPE_SHA256, id, idN, pvt, hs, &hsSz), "wc_HashEccsiId");
        check(wc_SetEccsiHash(&key, hs, hsSz), "wc_SetEccsiHash");
        verified = 0;
        int ret = wc_VerifyEccsiHash(&key, WC_HASH_TYPE_SHA256, msg, msgN, sig, sigN, &verified);
        if (ret != 0) { verified = 0; if (loops == 1) fprintf(stderr, "wc_VerifyEccsiHash: %d\n", ret); }
      }
      t1 = now_ns();
      printf("result %d\n", verified ? 1 : 0);
    }
    wc_ecc_del_point(pvt);
    wc_FreeEccsiKey(&key);
  } else if (strcmp(cmd, "sakke-encap") == 0 || strcmp(cmd, "sakke-decap") == 0) {
    int encap = cmd[6] == 'e';
    if (argc < (encap ? 5 : 6)) { fprintf(stderr, "missing arguments\n"); return 2; }
    word32 zN, idN;
    unsigned char *z = unhex(argv[2], &zN), *id = unhex(argv[3], &idN);
    SakkeKey key;
    check(wc_InitSakkeKey_ex(&key, 128, ECC_SAKKE_1, NULL, INVALID_DEVID), "wc_InitSakkeKey_ex");
    const unsigned char *zr = raw(z, &zN);
    check(wc_ImportSakkePublicKey(&key, zr, zN, 0), "wc_ImportSakkePublicKey");
    check(wc_SetSakkeIdentity(&key, id, (word16)idN), "wc_SetSakkeIdentity");
    if (encap) {
      word32 ssvN;
      unsigned char *ssv = unhex(argv[4], &ssvN);
      if (argc > 5) loops = atoi(argv[5]);
      byte buf[64], auth[512];
      word16 authSz = sizeof(auth);
      t0 = now_ns();
      for (int i = 0; i < loops; i++) {
        memcpy(buf, ssv, ssvN);
        authSz = sizeof(auth);
        /* SSV in, H out in the same buffer; auth receives R_(b,S). */
        check(wc_MakeSakkeEncapsulatedSSV(&key, WC_HASH_TYPE_SHA256, buf, (word16)ssvN, auth, &authSz), "wc_MakeSakkeEncapsulatedSSV");
      }
      t1 = now_ns();
      unsigned char out[600];
      memcpy(out, auth, authSz);
      memcpy(out + authSz, buf, ssvN);
      puthex("result", out, authSz + ssvN);
    } else {
      word32 rskN, sedN;
      unsigned char *rsk = unhex(argv[4], &rskN), *sed = unhex(argv[5], &sedN);
      if (argc > 6) loops = atoi(argv[6]);
      ecc_point *rp = wc_ecc_new_point();
      const unsigned char *rr = raw(rsk, &rskN);
      check(wc_DecodeSakkeRsk(&key, rr, rskN, rp), "wc_DecodeSakkeRsk");
      check(wc_SetSakkeRsk(&key, rp, NULL, 0), "wc_SetSakkeRsk");
      if (sedN < 16 + 1) { fprintf(stderr, "SED too short\n"); return 2; }
      word32 authN = sedN - 16;
      byte buf[16];
      t0 = now_ns();
      for (int i = 0; i < loops; i++) {
        memcpy(buf, sed + authN, 16);
        check(wc_DeriveSakkeSSV(&key, WC_HASH_TYPE_SHA256, buf, 16, sed, (word16)authN), "wc_DeriveSakkeSSV");
      }
      t1 = now_ns();
      puthex("result", buf, 16);
      wc_ecc_del_point(rp);
    }
    wc_FreeSakkeKey(&key);
  } else {
    fprintf(stderr, "unknown command %s\n", cmd);
    return 2;
  }
  if (loops > 1) printf("ns %lld\n", t1 - t0);
  wc_FreeRng(&rng);
  return 0;
}
