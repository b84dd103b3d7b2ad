import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import forge from 'node-forge';

/**
 * The users' S/MIME certificates (RFC 8550/8551 as RFC 8591 uses them): one
 * per user (not per device: bob-1 and bob-2 hold bob's), issued by the
 * testbed CA with the user's IMPU as a uniformResourceIdentifier
 * subjectAltName, keyUsage digitalSignature + keyEncipherment and
 * extendedKeyUsage emailProtection, RSA 2048 as the rest of the PKI. Kept in
 * `<pkiDir>/smime/<user>/{cert.pem,key.pem}` next to the TLS material and
 * reused across runs, like ensurePki's. A UE gets its own key and every
 * user's certificate (the "directory"); never another user's key.
 *
 * This lives with the UE because the UE is the only kind that needs it; the
 * natural home is the topology's PKI (ensurePki), which would also copy the
 * files into the docker target's per-element pki directory.
 */

const VALID_DAYS = 825;

export interface SmimeFiles {
  dir: string;
  certFile(user: string): string;
  keyFile(user: string): string;
}

/** `<pkiDir>/smime` paths, whether or not the files exist. */
export function smimeFiles(pkiDir: string): SmimeFiles {
  const dir = join(pkiDir, 'smime');
  return { dir, certFile: (u) => join(dir, u, 'cert.pem'), keyFile: (u) => join(dir, u, 'key.pem') };
}

/**
 * Makes (or reuses) an S/MIME certificate for each user under `<pkiDir>/smime`.
 * Returns null when `pkiDir` holds no CA key (a container's view of the PKI,
 * or a directory without a CA): S/MIME is then left out of the
 * configuration. Each user's pair is written to a fresh directory and
 * renamed into place, so concurrent runs never mix one run's key with
 * another's certificate.
 */
export function ensureSmimeCredentials(pkiDir: string, users: ReadonlyArray<{ user: string; impu: string }>): SmimeFiles | null {
  const caCertFile = join(pkiDir, 'ca.pem');
  const caKeyFile = join(pkiDir, 'ca.key');
  if (!existsSync(caCertFile) || !existsSync(caKeyFile)) return null;
  const caPem = readFileSync(caCertFile, 'utf8');
  const caCert = forge.pki.certificateFromPem(caPem);
  // Parsed only when a pair has to be made: forge reads an RSA key in JavaScript, slowly.
  let caKey: forge.pki.rsa.PrivateKey | undefined;
  const files = smimeFiles(pkiDir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  for (const { user, impu } of users) {
    if (!/^[A-Za-z0-9._-]+$/.test(user)) throw new Error(`a user name for an S/MIME certificate is letters, digits, ".", "_" and "-": got "${user}"`);
    if (usable(files, user, impu, caCert, caPem)) continue;
    caKey ??= forge.pki.privateKeyFromPem(readFileSync(caKeyFile, 'utf8')) as forge.pki.rsa.PrivateKey;
    const tmp = mkdtempSync(join(files.dir, `.${user}-`));
    const keys = forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
    writeFileSync(join(tmp, 'key.pem'), forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(join(tmp, 'cert.pem'), forge.pki.certificateToPem(issue(user, impu, keys.publicKey, caCert, caKey)));
    const target = join(files.dir, user);
    // A stale pair (another CA, another IMPU, near expiry) is replaced; a pair another run just made is kept.
    if (existsSync(target) && !usable(files, user, impu, caCert, caPem)) rmSync(target, { recursive: true, force: true });
    try {
      renameSync(tmp, target);
    } catch {
      rmSync(tmp, { recursive: true, force: true });
      if (!usable(files, user, impu, caCert, caPem)) throw new Error(`could not write the S/MIME credential of ${user} under ${files.dir}`);
    }
  }
  return files;
}

function issue(user: string, impu: string, publicKey: forge.pki.PublicKey, caCert: forge.pki.Certificate, caKey: forge.pki.rsa.PrivateKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = '02' + forge.util.bytesToHex(forge.random.getBytesSync(15));
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + VALID_DAYS * 86400_000);
  cert.setSubject([{ name: 'commonName', value: `${user} (S/MIME)` }, { name: 'organizationName', value: 'imslab testbed' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', emailProtection: true },
    { name: 'subjectAltName', altNames: [{ type: 6, value: impu }] },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return cert;
}

/**
 * Pairs found usable in this process, by CA, IMPU and certificate file (its
 * contents): every UE of every scenario renders every user's certificate,
 * and forge verifies a signature in JavaScript (5 s of a 41-scenario run).
 * Value: the certificate's notAfter.
 */
const verified = new Map<string, number>();

/** The pair exists, was issued by this CA for this IMPU, and lives at least one more day. */
function usable(files: SmimeFiles, user: string, impu: string, caCert: forge.pki.Certificate, caPem: string): boolean {
  try {
    if (!existsSync(files.keyFile(user))) return false;
    const pem = readFileSync(files.certFile(user), 'utf8');
    const key = `${caPem}\n${impu}\n${pem}`;
    const known = verified.get(key);
    if (known !== undefined) return known >= Date.now() + 86400_000;
    const cert = forge.pki.certificateFromPem(pem);
    if (cert.validity.notAfter.getTime() < Date.now() + 86400_000) return false;
    if (!caCert.verify(cert)) return false;
    const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ type: number; value?: string }> } | null;
    const ok = (san?.altNames ?? []).some((a) => a.type === 6 && a.value === impu);
    if (ok) verified.set(key, cert.validity.notAfter.getTime());
    return ok;
  } catch {
    return false;
  }
}
