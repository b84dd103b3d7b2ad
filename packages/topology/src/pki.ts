import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import forge from 'node-forge';

/**
 * The testbed PKI: one CA, and a certificate per TLS-speaking element (the
 * P-CSCFs' access side, the UEs' TLS servers), each naming every address the
 * element has on every target. Made with node-forge on first use and kept in
 * a directory that is never committed (`.imslab/pki`). These are testbed
 * keys, not secrets of any real system.
 */
export interface PkiEntity {
  name: string;
  /** IP addresses to put in subjectAltName. */
  ips: string[];
}

export interface PkiFiles {
  dir: string;
  caFile: string;
  certFile(name: string): string;
  keyFile(name: string): string;
}

const VALID_DAYS = 825;

function newKeys(): forge.pki.rsa.KeyPair {
  // forge uses Node's native RSA key generation when it is available.
  return forge.pki.rsa.generateKeyPair({ bits: 2048, e: 0x10001 });
}

function serial(): string {
  return '01' + forge.util.bytesToHex(forge.random.getBytesSync(15));
}

function makeCert(
  subjectCN: string,
  keys: forge.pki.rsa.KeyPair,
  issuer: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey } | null,
  ips: string[],
): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serial();
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + VALID_DAYS * 86400_000);
  const subject = [{ name: 'commonName', value: subjectCN }, { name: 'organizationName', value: 'imslab testbed' }];
  cert.setSubject(subject);
  cert.setIssuer(issuer ? issuer.cert.subject.attributes : subject);
  if (issuer) {
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: ips.map((ip) => ({ type: 7, ip })) },
    ]);
    cert.sign(issuer.key, forge.md.sha256.create());
  } else {
    cert.setExtensions([
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
  }
  return cert;
}

/** Makes (or reuses) the CA and one certificate per entity under `dir`. */
export function ensurePki(dir: string, entities: PkiEntity[]): PkiFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files: PkiFiles = {
    dir,
    caFile: join(dir, 'ca.pem'),
    certFile: (n) => join(dir, `${n}.pem`),
    keyFile: (n) => join(dir, `${n}.key`),
  };
  const caKeyFile = join(dir, 'ca.key');
  let ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey };
  if (existsSync(files.caFile) && existsSync(caKeyFile)) {
    ca = {
      cert: forge.pki.certificateFromPem(readFileSync(files.caFile, 'utf8')),
      key: forge.pki.privateKeyFromPem(readFileSync(caKeyFile, 'utf8')) as forge.pki.rsa.PrivateKey,
    };
  } else {
    const keys = newKeys();
    ca = { cert: makeCert('imslab testbed CA', keys, null, []), key: keys.privateKey };
    writeFileSync(caKeyFile, forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(files.caFile, forge.pki.certificateToPem(ca.cert));
  }
  for (const e of entities) {
    const certFile = files.certFile(e.name);
    if (existsSync(certFile) && existsSync(files.keyFile(e.name)) && coversIps(readFileSync(certFile, 'utf8'), e.ips)) continue;
    const keys = newKeys();
    const cert = makeCert(e.name, keys, ca, e.ips);
    writeFileSync(files.keyFile(e.name), forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(certFile, forge.pki.certificateToPem(cert));
  }
  return files;
}

/**
 * A certificate for a UA of the user's own (a softphone attached to the
 * testbed): signed by the testbed CA, naming the addresses it listens on.
 * Written to `outDir` with the CA certificate: `<name>.pem`, `<name>.key`,
 * `ca.pem`. Always a new key pair.
 */
export function issueCertificate(pkiDir: string, name: string, ips: string[], outDir: string): { cert: string; key: string; ca: string } {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new Error(`a certificate name is letters, digits, ".", "_" and "-": got "${name}"`);
  if (ips.length === 0 || !ips.every((ip) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip))) throw new Error(`give the UA's IPv4 addresses (--ip), got ${ips.join(', ') || 'none'}`);
  const files = ensurePki(pkiDir, []);
  const ca = {
    cert: forge.pki.certificateFromPem(readFileSync(files.caFile, 'utf8')),
    key: forge.pki.privateKeyFromPem(readFileSync(join(pkiDir, 'ca.key'), 'utf8')) as forge.pki.rsa.PrivateKey,
  };
  const keys = newKeys();
  const cert = makeCert(name, keys, ca, ips);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const out = { cert: join(outDir, `${name}.pem`), key: join(outDir, `${name}.key`), ca: join(outDir, 'ca.pem') };
  writeFileSync(out.key, forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 });
  writeFileSync(out.cert, forge.pki.certificateToPem(cert));
  writeFileSync(out.ca, readFileSync(files.caFile));
  return out;
}

function coversIps(pem: string, ips: string[]): boolean {
  const cert = forge.pki.certificateFromPem(pem);
  if (cert.validity.notAfter.getTime() < Date.now() + 86400_000) return false;
  const san = cert.getExtension('subjectAltName') as { altNames?: Array<{ ip?: string }> } | null;
  const have = new Set((san?.altNames ?? []).map((a) => a.ip));
  return ips.every((ip) => have.has(ip));
}

/**
 * Secrets each device shares with the KMS (TS 33.328 derives them with GBA;
 * the testbed provisions them), and the KMS's own master key for tickets.
 * Hex strings, kept with the PKI and reused across runs.
 */
export interface KmsSecrets {
  masterKey: string;
  devices: Record<string, string>;
}

export const KMS_SECRETS_FILE = 'kms-secrets.json';

export function ensureKmsSecrets(dir: string, devices: string[]): KmsSecrets {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, KMS_SECRETS_FILE);
  let s: KmsSecrets = { masterKey: randomBytes(32).toString('hex'), devices: {} };
  if (existsSync(file)) {
    try {
      s = JSON.parse(readFileSync(file, 'utf8')) as KmsSecrets;
    } catch {
      // A damaged file is replaced: the secrets only matter within one run.
    }
  }
  let changed = !existsSync(file);
  for (const d of devices) {
    if (!s.devices[d]) {
      s.devices[d] = randomBytes(32).toString('hex');
      changed = true;
    }
  }
  if (changed) writeFileSync(file, JSON.stringify(s, null, 2), { mode: 0o600 });
  return s;
}
