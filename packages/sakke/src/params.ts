/**
 * Domain parameters. ECCSI uses NIST P-256 with SHA-256 (RFC 6509 sec. 2.2,
 * as in the RFC 6507 Appendix A example). SAKKE uses parameter set 1 of
 * RFC 6509 Appendix A (the values RFC 6508 Appendix A's example runs on):
 * n = 128, 1024-bit p, q = (p + 1) / 4, E: y^2 = x^3 - 3x, base point P,
 * g = <P, P>, Hash = SHA-256.
 */
import type { Curve } from './curve.ts';

/** NIST P-256 (FIPS 186-3 D.1.2.3). */
export const P256: Curve = {
  name: 'P-256',
  p: 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffffn,
  b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  q: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  G: {
    x: 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296n,
    y: 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5n,
  },
  coordLength: 32,
};

/** ECCSI N: octets of a P-256 scalar / coordinate (RFC 6507 sec. 2.1). */
export const ECCSI_N = 32;

/** SAKKE parameter set 1, RFC 6509 Appendix A. */
export const SAKKE_PARAMS_1 = {
  /** SAKKE params value 1 in the SAKKE payload (RFC 6509 sec. 4.1). */
  id: 1,
  /** n: SSV length in bits. */
  n: 128,
  curve: {
    name: 'SAKKE parameter set 1',
    p: 0x997abb1f0a563fda65c61198dad0657a416c0ce19cb48261be9ae358b3e01a2ef40aab27e2fc0f1b228730d531a59cb0e791b39ff7c88a19356d27f4a666a6d0e26c6487326b4cd4512ac5cd65681ce1b6aff4a831852a82a7cf3c521c3c09aa9f94d6af56971f1ffce3e82389857db080c5df10ac7ace87666d807afea85febn,
    b: 0n,
    q: 0x265eaec7c2958ff69971846636b4195e905b0338672d20986fa6b8d62cf8068bbd02aac9f8bf03c6c8a1cc354c69672c39e46ce7fdf222864d5b49fd2999a9b4389b1921cc9ad335144ab173595a07386dabfd2a0c614aa0a9f3cf14870f026aa7e535abd5a5c7c7ff38fa08e2615f6c203177c42b1eb3a1d99b601ebfaa17fbn,
    G: {
      x: 0x53fc09ee332c29ad0a7990053ed9b52a2b1a2fd60aec69c698b2f204b6ff7cbfb5edb6c0f6ce2308ab10db9030b09e1043d5f22cdb9dfa55718bd9e7406ce8909760af765dd5bccb337c86548b72f2e1a702c3397a60de74a7c1514dba66910dd5cfb4cc80728d87ee9163a5b63f73ec80ec46c4967e0979880dc8abeae63895n,
      y: 0x0a8249063f6009f1f9f1f0533634a135d3e82016029906963d778d821e141178f5ea69f4654ec2b9e7f7f5e5f0de55f66b598ccf9a140b2e416cff0ca9e032b970dae117ad547c6ccad696b5b7652fe0ac6f1e80164aa989492d979fc5a4d5f213515ad7e9cb99a980bdad5ad5bb4636adb9b5706a67dcde75573fd71bef16d7n,
    },
    coordLength: 128,
  } satisfies Curve,
  /** g = <P, P> in its PF_p representation (RFC 6508 sec. 3.2, RFC 6509 Appendix A). */
  g: 0x66fc2a432b6ea392148f15867d623068c6a87bd1fb94c41e27fabe658e015a87371e94744c96feda449ae9563f8bc446cbfda85d5d00ef577072da8f541721beee0faed1828eab90b99dfb0138c7843355df0460b4a9fd74b4f1a32bcafa1ffad682c033a7942bcce3720f20b9b7b0403c8cae87b7a0042acde0fab36461ea46n,
} as const;

/** Octets of SAKKE Encapsulated Data with parameter set 1: R_(b,S) (257) || H (16) (RFC 6508 sec. 4). */
export const SAKKE_SED_LENGTH = 1 + 2 * 128 + 128 / 8;
