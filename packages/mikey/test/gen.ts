/** Seeded random MIKEY messages covering every payload kind, map type and optional field (property tests). */
import type { CsIdMap, KeyValidity, MikeyHeader, MikeyMessage, Payload } from '../src/index.ts';
import { noTicketFlags } from '../src/index.ts';
import { prng } from '@imslab/fuzz';

export { prng };

export class Gen {
  readonly r: () => number;
  constructor(seed: number) {
    this.r = prng(seed);
  }
  int(max: number): number {
    return Math.floor(this.r() * (max + 1));
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length - 1)]!;
  }
  bool(): boolean {
    return this.r() < 0.5;
  }
  bytes(max: number, min = 0): Uint8Array {
    const n = min + this.int(max - min);
    return Uint8Array.from({ length: n }, () => this.int(255));
  }
  u32(): number {
    return this.int(0xffffffff);
  }
  big(octets: number): bigint {
    let v = 0n;
    for (let i = 0; i < octets; i++) v = (v << 8n) | BigInt(this.int(255));
    return v;
  }
  kv(): KeyValidity {
    switch (this.int(2)) {
      case 0:
        return { kvType: 0 };
      case 1:
        return { kvType: 1, spi: this.bytes(4) };
      default:
        return { kvType: 2, validFrom: this.bytes(6), validTo: this.bytes(6) };
    }
  }
  map(): CsIdMap {
    switch (this.int(2)) {
      case 0:
        return { type: 'srtp-id', entries: Array.from({ length: this.int(3) }, () => ({ policyNo: this.int(255), ssrc: this.u32(), roc: this.u32() })) };
      case 1:
        return { type: 'empty', nCs: this.int(255) };
      default:
        return {
          type: 'generic-id',
          entries: Array.from({ length: this.int(3) }, () => ({ csId: this.int(255), protType: this.int(3), s: this.bool(), policies: Array.from({ length: this.int(3) }, () => this.int(255)), sessionData: this.bytes(12), spi: this.bytes(4) })),
        };
    }
  }
  header(): MikeyHeader {
    return { version: 1, dataType: this.pick([0, 1, 6, 11, 13, 14, 15, 16, 18, 26, 200]), v: this.bool(), prf: this.int(127), csbId: this.u32(), csIdMap: this.map() };
  }
  tsType(): number {
    return this.int(3);
  }
  /** A payload of any kind except V, SIGN, TP, TICKET (those have placement rules). */
  simple(): Payload {
    const k = this.int(13);
    switch (k) {
      case 0: {
        const t = this.tsType();
        return { kind: 'T', tsType: t, value: this.big(t < 2 ? 8 : 4) };
      }
      case 1:
        return { kind: 'RAND', rand: this.bytes(32) };
      case 2:
        return { kind: 'ID', idType: this.int(2), data: this.bytes(40) };
      case 3:
        return { kind: 'CERT', certType: this.int(3), data: this.bytes(60) };
      case 4: {
        const f = this.int(2);
        return { kind: 'CHASH', hashFunc: f, hash: this.bytes([20, 16, 32][f]!, [20, 16, 32][f]!) };
      }
      case 5:
        return { kind: 'SP', policyNo: this.int(255), protType: this.int(1), params: Array.from({ length: this.int(5) }, () => ({ type: this.int(20), value: this.bytes(4) })) };
      case 6: {
        const e = this.int(15);
        return this.bool() ? { kind: 'ERR', errorNo: e } : { kind: 'ERR', errorNo: e, reserved: 1 + this.int(0xfffe) };
      }
      case 7: {
        const m = this.int(2);
        return { kind: 'KEMAC', encrAlg: this.int(3), encrData: this.bytes(80), macAlg: m, mac: this.bytes([0, 20, 32][m]!, [0, 20, 32][m]!) };
      }
      case 8:
        return { kind: 'PKE', cache: this.int(2), data: this.bytes(64) };
      case 9: {
        const g = this.int(2);
        const p: Payload = { kind: 'DH', group: g, value: this.bytes([192, 96, 128][g]!, [192, 96, 128][g]!), kv: this.kv() };
        if (this.bool()) p.reserved = 1 + this.int(14);
        return p;
      }
      case 10:
        return { kind: 'GENERAL_EXT', extType: this.int(255), data: this.bytes(30) };
      case 11: {
        const t = this.tsType();
        return { kind: 'TR', role: 1 + this.int(3), tsType: t, value: this.big(t < 2 ? 8 : 4) };
      }
      case 12:
        return { kind: 'IDR', role: 1 + this.int(4), idType: this.int(2), data: this.bytes(40) };
      default:
        return { kind: 'RANDR', role: 1 + this.int(2), rand: this.bytes(32) };
    }
  }
  v(): Payload {
    const m = this.int(2);
    return { kind: 'V', macAlg: m, mac: this.bytes([0, 20, 32][m]!, [0, 20, 32][m]!) };
  }
  sign(): Payload {
    return { kind: 'SIGN', sType: this.int(15), signature: this.bytes(128) };
  }
  nested(allowV: boolean): Payload[] | undefined {
    const n = this.int(4);
    if (n === 4) return undefined;
    const out = Array.from({ length: n }, () => (allowV && this.bool() ? this.v() : this.simple()));
    if (this.int(5) === 0) out.push(this.sign());
    return out;
  }
  flags(): ReturnType<typeof noTicketFlags> {
    const f = noTicketFlags();
    for (const k of Object.keys(f) as (keyof typeof f)[]) f[k] = this.bool();
    return f;
  }
  ticketish(): Payload {
    const base = { ticketType: this.int(0xffff), subtype: this.int(255), version: this.int(255), prf: this.int(127), flags: this.flags() };
    const extra = this.bool() ? { reserved: 1 + this.int(30) } : {};
    const tpData = this.nested(false);
    const withTp = tpData === undefined ? {} : { tpData };
    if (this.bool()) return { kind: 'TP', ...base, ...extra, ...withTp };
    const init = this.nested(true);
    return { kind: 'TICKET', ...base, ...extra, ...withTp, ticketData: this.bytes(200), ...(init === undefined ? {} : { initiatorData: init }) };
  }
  message(): MikeyMessage {
    const n = this.int(8);
    const payloads: Payload[] = Array.from({ length: n }, () => (this.int(4) === 0 ? this.ticketish() : this.simple()));
    const end = this.int(3);
    if (end === 1) payloads.push(this.v());
    if (end === 2) payloads.push(this.sign());
    return { header: this.header(), payloads };
  }
}
