/**
 * Finding CMS (RFC 5652) inside message bodies by what the bytes are, not by
 * what the headers claim: a ContentInfo is a DER/BER SEQUENCE whose first
 * element is the content-type OID, so every occurrence of the OID of
 * SignedData, EnvelopedData (RFC 5652 sec. 5, 6) or AuthEnvelopedData
 * (RFC 5083) right after a SEQUENCE header is a candidate; its length says
 * where it ends, and @imslab/cms parses it (totally: hostile bytes become an
 * error string, never an exception). Base64 bodies (Content-Transfer-Encoding
 * base64, or a multipart part) are decoded and searched too.
 *
 * Recipients are described as @imslab/cms describes a RecipientInfo
 * (`issuer <CN> serial <hex>`, or `subjectKeyIdentifier <hex>`), so they can
 * be matched against the users' certificates ({@link certificateKeys}).
 */
import { createHash } from 'node:crypto';

/**
 * @imslab/cms (pkijs, asn1js) is loaded on first use, not when
 * @imslab/analysis is imported: the media analysis and `imslab analyse` never
 * pay for it.
 */
type CmsModule = typeof import('@imslab/cms');
let cms: CmsModule | undefined;

/** Loads @imslab/cms for the synchronous readers ({@link findCmsLoaded}). */
export async function loadCmsReader(): Promise<CmsModule> {
  cms ??= await import('@imslab/cms');
  return cms;
}

/** RFC 5652 sec. 5.1, 6.1; RFC 5083 sec. 1; RFC 5280 sec. 4.2.1.2. */
const OID = {
  signedData: '1.2.840.113549.1.7.2',
  envelopedData: '1.2.840.113549.1.7.3',
  authEnvelopedData: '1.2.840.113549.1.9.16.1.23',
  subjectKeyIdentifier: '2.5.29.14',
} as const;

export type CmsKind = 'signed-data' | 'enveloped-data' | 'auth-enveloped-data';

export interface SniffedCms {
  kind: CmsKind;
  /** The ContentInfo's bytes (as many as the body holds when it is cut short). */
  der: Buffer;
  /** SHA-256 of `der`, hex: byte identity across hops. */
  sha256: string;
  /** Where it starts in the body searched (in the decoded bytes for base64). */
  offset: number;
  encoding: 'binary' | 'base64';
  /** RecipientInfos of an EnvelopedData or AuthEnvelopedData (also of one found inside a SignedData). */
  recipients: string[];
  /** Why it could not be read whole: truncated, malformed. */
  error?: string;
}

const KINDS: Array<[CmsKind, string]> = [
  ['signed-data', OID.signedData],
  ['enveloped-data', OID.envelopedData],
  ['auth-enveloped-data', OID.authEnvelopedData],
];

/** DER of an OBJECT IDENTIFIER (tag, length, value). */
function encodeOid(oid: string): Buffer {
  const parts = oid.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const n of parts.slice(2)) {
    const bytes = [n & 0x7f];
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) bytes.unshift((v & 0x7f) | 0x80);
    out.push(...bytes);
  }
  return Buffer.from([0x06, out.length, ...out]);
}

const NEEDLES = KINDS.map(([kind, oid]) => ({ kind, oid: encodeOid(oid) }));
/** Bodies larger than this are not searched (the CMS limit of @imslab/cms is 1 MiB). */
const MAX_BODY = 4 << 20;
/** Candidates read per body: a hostile body full of OIDs costs bounded work. */
const MAX_CANDIDATES = 64;
const MAX_DEPTH = 64;

/** Length of the BER element at `at`: header + content, -1 when it runs past `end` (truncated), -2 when malformed. */
function berLength(b: Buffer, at: number, end: number, depth = 0): number {
  if (depth > MAX_DEPTH || at + 2 > end) return at + 2 > end ? -1 : -2;
  const tag = b[at]!;
  let p = at + 1;
  if ((tag & 0x1f) === 0x1f) {
    while (p < end && (b[p]! & 0x80) !== 0) p++;
    p++;
    if (p >= end) return -1;
  }
  const l0 = b[p++]!;
  if (l0 === 0x80) {
    // Indefinite length (BER): constructed elements up to end-of-contents 00 00.
    if ((tag & 0x20) === 0) return -2;
    let q = p;
    for (;;) {
      if (q + 2 > end) return -1;
      if (b[q] === 0 && b[q + 1] === 0) return q + 2 - at;
      const n = berLength(b, q, end, depth + 1);
      if (n < 0) return n;
      q += n;
    }
  }
  let len = l0;
  if (l0 & 0x80) {
    const n = l0 & 0x7f;
    if (n > 4) return -2;
    if (p + n > end) return -1;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[p++]!;
  }
  return p + len > end ? -1 : p + len - at;
}

/** Where a SEQUENCE header that ends exactly at `oidAt` starts, or -1. */
function sequenceStart(b: Buffer, oidAt: number): number {
  for (let h = 2; h <= 6 && oidAt - h >= 0; h++) {
    const s = oidAt - h;
    if (b[s] !== 0x30) continue;
    const l0 = b[s + 1]!;
    if (h === 2 && (l0 < 0x80 || l0 === 0x80)) return s;
    if (h > 2 && l0 === 0x80 + (h - 2)) return s;
  }
  return -1;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads one candidate ContentInfo found at `start`. */
function readCandidate(b: Buffer, start: number, kind: CmsKind, encoding: SniffedCms['encoding'], depth: number): SniffedCms {
  const n = berLength(b, start, b.length);
  const der = Buffer.from(n > 0 ? b.subarray(start, start + n) : b.subarray(start));
  const out: SniffedCms = { kind, der, sha256: createHash('sha256').update(der).digest('hex'), offset: start, encoding, recipients: [] };
  if (n === -1) {
    out.error = `${kind} cut short: its length runs past the ${b.length - start} octets present`;
    return out;
  }
  if (n === -2) {
    out.error = `${kind}: malformed length`;
    return out;
  }
  try {
    if (!cms) throw new Error('@imslab/cms not loaded (loadCmsReader)');
    cms.parseContentInfo(der);
    if (kind === 'signed-data') {
      // Sign-then-encrypt puts the envelope outside; an envelope inside a SignedData (encrypt-then-sign) still names the recipients.
      if (depth < 2) {
        for (const inner of findCmsAt(der.subarray(1), encoding, depth + 1)) {
          if (inner.kind !== 'signed-data') out.recipients.push(...inner.recipients);
        }
      }
    } else {
      out.recipients = cms.listRecipients(der);
    }
  } catch (e) {
    out.error = `${kind}: ${describeError(e)}`;
  }
  return out;
}

function findCmsAt(body: Buffer, encoding: SniffedCms['encoding'], depth: number): SniffedCms[] {
  const hits: Array<{ at: number; kind: CmsKind }> = [];
  for (const { kind, oid } of NEEDLES) {
    for (let at = body.indexOf(oid); at >= 0 && hits.length < MAX_CANDIDATES; at = body.indexOf(oid, at + 1)) {
      const s = sequenceStart(body, at);
      if (s >= 0) hits.push({ at: s, kind });
    }
  }
  hits.sort((x, y) => x.at - y.at);
  const out: SniffedCms[] = [];
  let covered = -1;
  for (const h of hits) {
    if (h.at < covered) continue; // inside a CMS already read
    const c = readCandidate(body, h.at, h.kind, encoding, depth);
    out.push(c);
    covered = h.at + c.der.length;
  }
  return out;
}

/**
 * Runs of base64 text (whole lines, over line breaks) of at least `min`
 * characters, decoded: a body or MIME part with Content-Transfer-Encoding
 * base64. Anyone reads what they decode to.
 */
export function base64Runs(body: Buffer, min = 16): Buffer[] {
  if (body.length > MAX_BODY) return [];
  const text = body.toString('latin1');
  const out: Buffer[] = [];
  for (const m of text.matchAll(/(?:^|\n)((?:[A-Za-z0-9+/]{4,}={0,2}[ \t]*(?:\r?\n|$))+)/g)) {
    const b64 = m[1]!.replace(/\s+/g, '');
    if (b64.length >= min) out.push(Buffer.from(b64, 'base64'));
  }
  return out;
}

/**
 * Every CMS ContentInfo (SignedData, EnvelopedData, AuthEnvelopedData) in a
 * message body, binary or base64. Never throws: what cannot be read carries
 * its `error`.
 */
export async function findCms(body: Uint8Array): Promise<SniffedCms[]> {
  await loadCmsReader();
  return findCmsLoaded(body);
}

/** {@link findCms} once {@link loadCmsReader} has resolved (synchronous, for stream parsers' callbacks). */
export function findCmsLoaded(body: Uint8Array): SniffedCms[] {
  try {
    const b = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (b.length === 0 || b.length > MAX_BODY) return [];
    const found = findCmsAt(b, 'binary', 0);
    if (found.length > 0) return found;
    // 0x30 (a SEQUENCE) encodes as "M".
    return base64Runs(b, 64).filter((d) => d[0] === 0x30).flatMap((d) => findCmsAt(d, 'base64', 0));
  } catch {
    return [];
  }
}

/** A user's certificate as recipients name it, and the identities it vouches for. */
export interface CertificateKey {
  /** How a RecipientInfo addressed to this certificate is described (issuer and serial, and subject key identifier). */
  names: string[];
  /** subjectAltName identities, e.g. `sip:alice@ims.example`. */
  identities: string[];
}

/** Reads users' certificates (PEM, possibly several in one text, or DER); a certificate that does not read is an error string. */
export async function certificateKeys(certs: ReadonlyArray<string | Uint8Array>): Promise<{ keys: CertificateKey[]; errors: string[] }> {
  const { certificateIdentities, parseCertificate } = await loadCmsReader();
  const keys: CertificateKey[] = [];
  const errors: string[] = [];
  const inputs: Array<string | Uint8Array> = [];
  for (const c of certs) {
    if (typeof c === 'string') inputs.push(...(c.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [c]));
    else inputs.push(c);
  }
  for (const c of inputs) {
    try {
      const cert = parseCertificate(c);
      const cn = cert.issuer.typesAndValues.find((t) => t.type === '2.5.4.3')?.value.valueBlock.value as string | undefined;
      const names = [`issuer ${cn ?? '(no CN)'} serial ${Buffer.from(cert.serialNumber.valueBlock.valueHexView).toString('hex')}`];
      const ski = cert.extensions?.find((e) => e.extnID === OID.subjectKeyIdentifier)?.parsedValue as { valueBlock?: { valueHexView?: Uint8Array } } | undefined;
      if (ski?.valueBlock?.valueHexView) names.push(`subjectKeyIdentifier ${Buffer.from(ski.valueBlock.valueHexView).toString('hex')}`);
      keys.push({ names, identities: certificateIdentities(cert) });
    } catch (e) {
      errors.push(`a user certificate does not read: ${describeError(e)}`);
    }
  }
  return { keys, errors };
}
