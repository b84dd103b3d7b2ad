/**
 * Reads the application data of TLS 1.3 connections in a capture with the
 * endpoints' key logs (SSLKEYLOGFILE: CLIENT/SERVER_HANDSHAKE_TRAFFIC_SECRET,
 * CLIENT/SERVER_TRAFFIC_SECRET_0), in process: RFC 8446 sec. 5.2 (record
 * protection), 7.1 (HKDF-Expand-Label), 7.2 (key update), 7.3 (traffic keys).
 * The analysis reads the SIP inside TLS with it (tls-reader.ts), and
 * the report its ladders with each message's time: tshark started once per
 * scenario cost about 0.25 CPU-s, a sixth of a whole run's CPU on two cores.
 * tshark stays the reference this is tested against, and the analysis falls
 * back on it for connections this cannot read (TLS 1.2, a reordered capture).
 *
 * Not handled (the connection is reported undecryptable, never guessed):
 * TLS 1.2 and older (CLIENT_RANDOM lines), 0-RTT early data, a capture that
 * lost a segment of the connection.
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Secrets of one TLS connection, by the label of its key log line. */
export type ConnectionSecrets = Map<string, Buffer>;

/** Key log lines by client random (hex, lower case). */
export type KeyLog = Map<string, ConnectionSecrets>;

/** Reads SSLKEYLOGFILE-format files (NSS key log); unreadable files and malformed lines are skipped. */
export function readKeyLogs(files: string[]): KeyLog {
  const out: KeyLog = new Map();
  for (const f of files) {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    parseKeyLog(text, out);
  }
  return out;
}

/** Adds the lines of one key log text to `into`. */
export function parseKeyLog(text: string, into: KeyLog = new Map()): KeyLog {
  for (const line of text.split('\n')) {
    const m = /^([A-Z_0-9]+) ([0-9a-fA-F]{64}) ([0-9a-fA-F]+)\s*$/.exec(line);
    if (!m) continue;
    const random = m[2]!.toLowerCase();
    let s = into.get(random);
    if (!s) into.set(random, (s = new Map()));
    s.set(m[1]!, Buffer.from(m[3]!, 'hex'));
  }
  return into;
}

interface Suite {
  cipher: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  hash: 'sha256' | 'sha384';
  keyLength: number;
}

/** TLS 1.3 cipher suites (RFC 8446 B.4) this reader opens. */
const SUITES: Record<number, Suite> = {
  0x1301: { cipher: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  0x1302: { cipher: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  0x1303: { cipher: 'chacha20-poly1305', hash: 'sha256', keyLength: 32 },
};

/** HKDF-Expand-Label (RFC 8446 sec. 7.1) with an empty context; `length` at most one hash block. */
export function hkdfExpandLabel(hash: string, secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  // HKDF-Expand (RFC 5869 sec. 2.3): T(1) = HMAC(PRK, info || 0x01) is enough for length <= HashLen.
  return createHmac(hash, secret).update(info).update(Buffer.from([1])).digest().subarray(0, length);
}

/** Record protection state of one direction under one traffic secret. */
class RecordKeys {
  private readonly key: Buffer;
  private readonly iv: Buffer;
  seq = 0n;

  constructor(private readonly suite: Suite, readonly secret: Buffer) {
    this.key = hkdfExpandLabel(suite.hash, secret, 'key', suite.keyLength);
    this.iv = hkdfExpandLabel(suite.hash, secret, 'iv', 12);
  }

  /** Opens one TLSCiphertext (header included); null when the tag does not verify. */
  open(record: Buffer): { type: number; content: Buffer } | null {
    if (record.length < 5 + 17) return null;
    const nonce = Buffer.from(this.iv);
    for (let i = 0, s = this.seq; i < 8; i++, s >>= 8n) nonce[11 - i]! ^= Number(s & 0xffn);
    const body = record.subarray(5);
    try {
      const d = createDecipheriv(this.suite.cipher, this.key, nonce, { authTagLength: 16 } as never) as unknown as {
        setAAD(b: Buffer): void; setAuthTag(b: Buffer): void; update(b: Buffer): Buffer; final(): Buffer;
      };
      d.setAAD(record.subarray(0, 5));
      d.setAuthTag(body.subarray(body.length - 16));
      const plain = Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
      this.seq++;
      // TLSInnerPlaintext: content || ContentType || zeros (sec. 5.4).
      let end = plain.length;
      while (end > 0 && plain[end - 1] === 0) end--;
      if (end === 0) return null;
      return { type: plain[end - 1]!, content: plain.subarray(0, end - 1) };
    } catch {
      return null;
    }
  }

  /** The next application traffic secret (KeyUpdate, sec. 7.2). */
  next(): RecordKeys {
    return new RecordKeys(this.suite, hkdfExpandLabel(this.suite.hash, this.secret, 'traffic upd', this.suite.hash === 'sha384' ? 48 : 32));
  }
}

/** Application data one direction of a connection carried, with the capture time (and interface) of the packet that completed it. */
export interface TlsChunk {
  timeUs: number;
  interfaceId: number;
  data: Buffer;
}

/** One direction of a TLS connection: record framing, then decryption once the keys are known. */
class TlsDirection {
  /** Bytes of an incomplete record carried over from the previous segment. */
  private carry: Buffer = Buffer.alloc(0);
  private nextSeq: number | undefined;
  /** Handshake messages (decrypted or not) not yet parsed, when one spans records. */
  private handshake: Buffer = Buffer.alloc(0);
  keys: RecordKeys | null = null;
  phase: 'clear' | 'handshake' | 'application' = 'clear';
  /** Why this direction could not be read, when that is the case. */
  failure: string | null = null;
  /** A record of type application_data came (TLS 1.3 protects the rest of the handshake under it too). */
  sawProtectedRecord = false;
  readonly chunks: TlsChunk[] = [];

  constructor(private readonly conn: TlsConnection, readonly isClient: boolean) {}

  /** One TCP segment's payload, with its sequence number; retransmissions are dropped, a hole ends the reading. */
  segment(seq: number, payload: Buffer, timeUs: number, interfaceId = 0): void {
    if (this.failure || payload.length === 0) return;
    seq >>>= 0;
    if (this.nextSeq === undefined) this.nextSeq = seq;
    const rel = (seq - this.nextSeq) | 0; // signed distance modulo 2^32 (RFC 9293 sec. 3.4)
    if (rel > 0) {
      this.failure = 'a segment is missing from the capture';
      return;
    }
    if (rel + payload.length <= 0) return; // retransmission
    payload = payload.subarray(-rel);
    this.nextSeq = (this.nextSeq + payload.length) >>> 0;
    let buf = this.carry.length ? Buffer.concat([this.carry, payload]) : payload;
    while (buf.length >= 5) {
      const len = buf.readUInt16BE(3);
      if (buf.length < 5 + len) break;
      this.record(buf.subarray(0, 5 + len), timeUs, interfaceId);
      if (this.failure) return;
      buf = buf.subarray(5 + len);
    }
    this.carry = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }

  private record(rec: Buffer, timeUs: number, interfaceId: number): void {
    const type = rec[0]!;
    if (type === 20) return; // change_cipher_spec: compatibility only (sec. 5)
    if (type === 22) {
      // Handshake in the clear: the hellos (a second ClientHello after a HelloRetryRequest too).
      this.handshakeBytes(rec.subarray(5));
      return;
    }
    if (type === 21) return; // alert in the clear
    if (type !== 23) {
      this.failure = `unexpected record type ${type}`;
      return;
    }
    this.sawProtectedRecord = true;
    if (!this.keys) {
      this.keys = this.conn.keysFor(this);
      if (!this.keys) {
        this.failure = this.conn.failure ?? 'no keys';
        return;
      }
    }
    const opened = this.keys.open(rec);
    if (!opened) {
      this.failure = `record ${this.keys.seq} does not decrypt under the logged ${this.phase} secret`;
      return;
    }
    if (opened.type === 22) this.handshakeBytes(opened.content);
    else if (opened.type === 23) {
      if (this.phase !== 'application') {
        this.failure = 'application data before Finished';
        return;
      }
      this.chunks.push({ timeUs, interfaceId, data: opened.content });
    }
  }

  /** Parses complete handshake messages (sec. 4): hellos for the random and suite, Finished and KeyUpdate for key changes. */
  private handshakeBytes(bytes: Buffer): void {
    let b = this.handshake.length ? Buffer.concat([this.handshake, bytes]) : bytes;
    while (b.length >= 4) {
      const len = (b[1]! << 16) | (b[2]! << 8) | b[3]!;
      if (b.length < 4 + len) break;
      const msg = b.subarray(0, 4 + len);
      b = b.subarray(4 + len);
      const hsType = msg[0]!;
      if (hsType === 1 && msg.length >= 38) this.conn.clientRandom = msg.subarray(6, 38).toString('hex');
      else if (hsType === 2 && msg.length >= 39) {
        const sidLen = msg[38]!;
        if (msg.length >= 39 + sidLen + 2) this.conn.suite = msg.readUInt16BE(39 + sidLen);
        // The peer's handshake keys start after its ServerHello (sec. 7.3): both directions move on.
        this.conn.serverHelloSeen();
      } else if (hsType === 20 && this.phase === 'handshake') {
        // Finished is the last record under the handshake secret (sec. 4.4.4, 7.1).
        this.phase = 'application';
        this.keys = this.conn.applicationKeys(this);
        if (!this.keys) this.failure = this.conn.failure ?? 'no application secret';
      } else if (hsType === 24 && this.phase === 'application' && this.keys) {
        this.keys = this.keys.next();
      }
    }
    this.handshake = b.length ? Buffer.from(b) : Buffer.alloc(0);
  }
}

/** One TCP connection that carries TLS, both directions. */
export class TlsConnection {
  clientRandom: string | null = null;
  suite: number | null = null;
  failure: string | null = null;
  readonly client: TlsDirection;
  readonly server: TlsDirection;

  constructor(private readonly keyLog: KeyLog, readonly clientEnd: string, readonly serverEnd: string) {
    this.client = new TlsDirection(this, true);
    this.server = new TlsDirection(this, false);
  }

  /** Feeds one segment, by its sender's `ip:port` (the capture interface it was seen on: 0 in a pcap file). */
  segment(from: string, seq: number, payload: Buffer, timeUs: number, interfaceId = 0): void {
    (from === this.clientEnd ? this.client : this.server).segment(seq, payload, timeUs, interfaceId);
  }

  serverHelloSeen(): void {
    for (const d of [this.client, this.server]) if (d.phase === 'clear') d.phase = 'handshake';
  }

  private secrets(): ConnectionSecrets | null {
    if (!this.clientRandom) {
      this.failure = 'no ClientHello in the capture';
      return null;
    }
    const s = this.keyLog.get(this.clientRandom);
    if (!s) {
      this.failure = 'no key log line for this connection';
      return null;
    }
    if (!s.has('CLIENT_TRAFFIC_SECRET_0')) {
      this.failure = s.has('CLIENT_RANDOM') ? 'TLS 1.2 (not read here)' : 'no traffic secret logged';
      return null;
    }
    return s;
  }

  private make(label: string): RecordKeys | null {
    const s = this.secrets();
    if (!s) return null;
    const suite = this.suite === null ? undefined : SUITES[this.suite];
    if (!suite) {
      this.failure = this.suite === null ? 'no ServerHello in the capture' : `cipher suite 0x${this.suite.toString(16)} not supported`;
      return null;
    }
    const secret = s.get(label);
    if (!secret) {
      this.failure = `no ${label} logged`;
      return null;
    }
    return new RecordKeys(suite, secret);
  }

  keysFor(d: TlsDirection): RecordKeys | null {
    const side = d.isClient ? 'CLIENT' : 'SERVER';
    return this.make(d.phase === 'application' ? `${side}_TRAFFIC_SECRET_0` : `${side}_HANDSHAKE_TRAFFIC_SECRET`);
  }

  applicationKeys(d: TlsDirection): RecordKeys | null {
    return this.make(`${d.isClient ? 'CLIENT' : 'SERVER'}_TRAFFIC_SECRET_0`);
  }

  /** Why a direction could not be read, or null when both were. */
  get error(): string | null {
    return this.client.failure ?? this.server.failure;
  }
}
