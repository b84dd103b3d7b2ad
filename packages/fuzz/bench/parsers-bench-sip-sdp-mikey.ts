/**
 * The parser fuzzers of issue 13 point 3 for SIP, SDP, MIKEY and tickets, and
 * their bench runner. Each target builds input i from `prng(seed, i)` by
 * mutating a fixture (RFC 4475-style SIP messages, RFC 4566/4568/4567 SDP,
 * RFC 4567 and ticket-exchange MIKEY messages, a MIKEY-SAKKE I_MESSAGE, sealed
 * tickets) and runs the parser. An input is `accepted` (and then a round-trip
 * property of that parser must hold), `rejected` with the package's typed
 * error, or a crash: any other exception, a typed error of the wrong class,
 * the SIP parser's "internal parser error" catch-all, or a broken round trip.
 * Each input's time is measured (performance.now()); there is no way to
 * interrupt synchronous code, so a hang shows as a huge worst time or a test
 * timeout.
 *
 * The unit tests (packages/{sip,sdp,mikey}/test/property.test.ts) run these
 * same targets at 8,000 inputs each; `runParserFuzzBench()` runs them at
 * 1,000,000. Smoke test: `npx tsx packages/fuzz/bench/parsers-bench-sip-sdp-mikey.ts 2000`.
 */
import { fileURLToPath } from 'node:url';
import { prng, mutateBytes, mutateText, pickOne, randInt, type Rnd } from '../src/index.ts';
import {
  buildDigestAuthorization, createResponse, formatNameAddr, formatSipUri, formatVia, parseAuthParams, parseDigestChallenge,
  parseMessage, parseNameAddr, parseSipUri, parseVia, serializeMessage, SipParseError, StreamFramer, FramingError,
  type SipRequest,
} from '@imslab/sip';
import { decodeMikeyKeyMgmt, parseSdp, readCryptoValue, SdpAttributeError, SdpMediaError, SdpParseError, buildAudioSdp } from '@imslab/sdp';
import { formatCryptoAttribute, SdesParseError } from '@imslab/srtp';
import {
  decodeKeyDataList, decodeMessage, encodeKeyDataList, encodeKeyMgmtAttribute, encodeMessage, KmsTicketCodec, MikeyError,
  MikeyParseError, parseTransferInit, uriIdentity, type KeyData, type TicketPayload,
} from '@imslab/mikey';
import { BASIC_INVITE, TORTURE_INVALID, TORTURE_VALID } from '../../sip/test/fixtures.ts';
import { fullFlow, rfc4567Examples, world } from '../../mikey/test/helpers.ts';

/** What one input did. */
export type Outcome = 'accepted' | 'rejected';

/** A property of a parser broken by one input (a crash, a wrong error class, a failed round trip). */
export class FuzzPropertyError extends Error {
  override name = 'FuzzPropertyError';
}

function must(cond: unknown, what: string): asserts cond {
  if (!cond) throw new FuzzPropertyError(what);
}

/** One parser under fuzz. */
export interface ParserFuzzTarget<T = unknown> {
  name: string;
  /** Input number i, built from a random source seeded with (seed, i). */
  input(rnd: Rnd): T;
  /** Runs the parser and checks its properties; throws on a crash or a broken property. */
  run(input: T): Outcome;
  /** A short printable form of an input, for failure messages. */
  show(input: T): string;
}

/** What a fuzz run found for one parser. */
export interface ParserFuzzResult {
  parser: string;
  inputs: number;
  accepted: number;
  rejected: number;
  /** Untyped exceptions and broken properties. */
  crashes: number;
  /** Inputs still slower than the time bound when re-timed (a hang or a super-linear path). */
  hangs: number;
  /**
   * Slowest single input, ms. An input over the bound is re-run twice and
   * its fastest time kept, so a GC pause or a busy machine does not count;
   * a slow parser path is slow every time.
   */
  worstMs: number;
  /** Slowest first run of an input, before re-timing (GC pauses and a busy machine included), ms. */
  firstRunWorstMs: number;
  /** Index of the slowest input. */
  worstInput: number;
  inputsPerSecond: number;
  /** The first few crashes: input index (replays with the same seed), error, input. */
  failures: Array<{ index: number; error: string; input: string }>;
  seed: number;
}

/** The time bound of one input, ms. */
export const PER_INPUT_BOUND_MS = 50;

/** The random source of input `i` of a run seeded with `seed`. */
export function inputRnd(seed: number, i: number): Rnd {
  return prng((Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + Math.imul(i + 1, 0x85ebca6b)) >>> 0);
}

/** Runs `count` inputs of one target. */
export function fuzzTarget<T>(target: ParserFuzzTarget<T>, count: number, seed = 0x13f022, boundMs = PER_INPUT_BOUND_MS): ParserFuzzResult {
  const res: ParserFuzzResult = { parser: target.name, inputs: 0, accepted: 0, rejected: 0, crashes: 0, hangs: 0, worstMs: 0, firstRunWorstMs: 0, worstInput: -1, inputsPerSecond: 0, failures: [], seed };
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const input = target.input(inputRnd(seed, i));
    const t0 = performance.now();
    try {
      if (target.run(input) === 'accepted') res.accepted++;
      else res.rejected++;
    } catch (e) {
      res.crashes++;
      if (res.failures.length < 5) res.failures.push({ index: i, error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}`.slice(0, 1500) : String(e), input: target.show(input).slice(0, 600) });
    }
    let dt = performance.now() - t0;
    if (dt > res.firstRunWorstMs) res.firstRunWorstMs = dt;
    for (let retry = 0; retry < 2 && dt >= boundMs; retry++) {
      const t1 = performance.now();
      try {
        target.run(input);
      } catch {
        // already counted
      }
      dt = Math.min(dt, performance.now() - t1);
    }
    if (dt >= boundMs) {
      res.hangs++;
      if (res.failures.length < 5) res.failures.push({ index: i, error: `over the time bound: ${dt.toFixed(1)} ms >= ${boundMs} ms`, input: target.show(input).slice(0, 600) });
    }
    if (dt > res.worstMs) {
      res.worstMs = dt;
      res.worstInput = i;
    }
    res.inputs++;
  }
  const total = (performance.now() - start) / 1000;
  res.inputsPerSecond = total > 0 ? Math.round(res.inputs / total) : res.inputs;
  return res;
}

const lazy = <T>(f: () => T): (() => T) => {
  let v: T | undefined;
  let done = false;
  return () => {
    if (!done) {
      v = f();
      done = true;
    }
    return v as T;
  };
};

const showText = (s: string): string => JSON.stringify(s);
const showBytes = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// ---------------------------------------------------------------- SIP

const SIP_EXTRA = ['SIP/2.0', 'SIP/2.0/UDP ', 'z9hG4bK', 'Content-Length: ', 'l: ', 'Via: ', 'v: ', 'sip:', 'sips:', '<sip:a@b>', ';tag=', ';branch=', '"\\"', '[::1]', ':65536', 'INVITE', 'CSeq: 1 INVITE'];

const sipMessages = lazy(() => {
  const base = [BASIC_INVITE, ...TORTURE_VALID.map((c) => c.text), ...TORTURE_INVALID.map((c) => c.text)];
  const inv = parseMessage(BASIC_INVITE);
  if (inv.ok) base.push(serializeMessage(createResponse(inv.message as SipRequest, 200, { toTag: 'x1', body: 'v=0\r\n' })).toString('latin1'));
  return base;
});

/** Values of one header (by full or compact name) across the SIP fixtures. */
function headerValues(names: RegExp): string[] {
  const out = new Set<string>();
  for (const t of sipMessages()) {
    for (const line of t.split(/\r?\n/)) {
      const m = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
      if (m && names.test(m[1]!)) out.add(m[2]!);
    }
  }
  return [...out];
}

function sipInput(rnd: Rnd): Buffer {
  const s = mutateText(rnd, pickOne(rnd, sipMessages()), SIP_EXTRA);
  return Buffer.from(s, rnd() < 0.8 ? 'latin1' : 'utf8');
}

/** A parsed message is re-serialised; that must parse too and be a fixed point of serialise(parse(.)). */
function checkMessageRoundTrip(buf: Buffer): Outcome {
  const r = parseMessage(buf);
  if (!r.ok) {
    must(r.error instanceof SipParseError, `parseMessage rejected with ${String(r.error)}`);
    must(!r.error.message.startsWith('internal parser error'), `parseMessage hit its catch-all: ${r.error.message}`);
    must(r.error.status === 400 || r.error.status === 505, `status ${r.error.status}`);
    return 'rejected';
  }
  const once = serializeMessage(r.message);
  const again = parseMessage(once);
  must(again.ok, `serialised message does not parse again: ${again.ok ? '' : again.error.message}`);
  must(again.message.kind === r.message.kind, 'kind changed');
  must(Buffer.compare(serializeMessage(again.message), once) === 0, 'serialize(parse(serialize(m))) != serialize(m)');
  return 'accepted';
}

const sipParseMessage: ParserFuzzTarget<Buffer> = {
  name: 'sip.parseMessage',
  input: sipInput,
  run: checkMessageRoundTrip,
  show: (b) => showText(b.toString('latin1')),
};

/** Several mutated messages and keep-alives, cut into random chunks. */
const sipFramer: ParserFuzzTarget<{ stream: Buffer; cuts: number[] }> = {
  name: 'sip.StreamFramer',
  input(rnd) {
    const parts: Buffer[] = [];
    for (let n = 1 + randInt(rnd, 3); n > 0; n--) {
      if (rnd() < 0.2) parts.push(Buffer.from('\r\n'.repeat(1 + randInt(rnd, 3))));
      parts.push(rnd() < 0.5 ? sipInput(rnd) : Buffer.from(pickOne(rnd, sipMessages()), 'latin1'));
    }
    const stream = Buffer.concat(parts).subarray(0, 200_000);
    const cuts = Array.from({ length: randInt(rnd, 6) }, () => randInt(rnd, stream.length + 1)).sort((a, b) => a - b);
    return { stream, cuts };
  },
  run({ stream, cuts }) {
    const whole = new StreamFramer().push(stream);
    const f = new StreamFramer();
    const chunked = [];
    let at = 0;
    for (const c of [...cuts, stream.length]) {
      chunked.push(...f.push(stream.subarray(at, c)));
      at = c;
    }
    let errors = 0;
    for (const it of whole) {
      if (it.kind === 'error') {
        errors++;
        must(it.error instanceof FramingError, 'framer error is not a FramingError');
      }
    }
    must(errors <= 1 && (errors === 0 || whole[whole.length - 1]!.kind === 'error'), 'an error item must be the last one');
    // Chunking does not change the messages cut from the stream.
    const msgs = (xs: typeof whole) => xs.filter((x) => x.kind === 'message').map((x) => (x.kind === 'message' ? x.data.toString('latin1') : ''));
    const a = msgs(whole);
    const b = msgs(chunked);
    must(a.length === b.length && a.every((m, i) => m === b[i]), `chunked framing differs: ${a.length} vs ${b.length} messages`);
    let framed = 0;
    for (const m of a) {
      framed += m.length;
      checkMessageRoundTrip(Buffer.from(m, 'latin1'));
    }
    must(framed <= stream.length, 'framed more bytes than received');
    return errors === 0 && a.length > 0 ? 'accepted' : 'rejected';
  },
  show: ({ stream, cuts }) => `${showText(stream.toString('latin1'))} cuts ${cuts.join(',')}`,
};

const URI_SEEDS = [
  'sip:bob@biloxi.example.com', 'sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?subject=x&h=1', 'sip:+1-212-555-1212:1234@gateway.com;user=phone',
  'sip:alice@192.0.2.4', 'sip:%61lice@atlanta.com;transport=TCP', 'sip:atlanta.com;method=REGISTER?to=alice%40atlanta.com', 'sip:p1.example.com;lr',
  'sips:[::1]', 'sip:user;par=u%40example.net@example.com',
];

const textTarget = <T>(name: string, seeds: () => string[], extra: string[], parse: (s: string) => T | null, roundTrip: (v: T, s: string) => void): ParserFuzzTarget<string> => ({
  name,
  input: (rnd) => (rnd() < 0.03 ? pickOne(rnd, seeds()) : mutateText(rnd, pickOne(rnd, seeds()), extra)),
  run(s) {
    const v = parse(s);
    if (v === null) return 'rejected';
    roundTrip(v, s);
    return 'accepted';
  },
  show: showText,
});

const sameParams = (a: Map<string, string | null>, b: Map<string, string | null>): boolean => a.size === b.size && [...a].every(([k, v]) => b.has(k) && b.get(k) === v);

const uriSeeds = lazy(() => [...new Set([...URI_SEEDS, ...sipMessages().flatMap((t) => t.match(/sips?:[^\s<>",]+/g) ?? [])])]);
const sipUri = textTarget('sip.parseSipUri', uriSeeds, SIP_EXTRA, parseSipUri, (u) => {
  const again = parseSipUri(formatSipUri(u));
  must(again, `formatted URI does not parse: ${formatSipUri(u)}`);
  must(formatSipUri(again) === formatSipUri(u) && again.host === u.host && again.port === u.port && again.user === u.user && again.password === u.password && sameParams(again.params, u.params), `URI round trip: ${formatSipUri(u)}`);
});

const nameAddrSeeds = lazy(() => headerValues(/^(to|from|contact|route|record-route|t|f|m)$/i).flatMap((v) => v.split(/,(?![^<]*>)/)).map((v) => v.trim()).filter(Boolean));
const sipNameAddr = textTarget('sip.parseNameAddr', nameAddrSeeds, SIP_EXTRA, parseNameAddr, (na) => {
  const text = formatNameAddr(na);
  const again = parseNameAddr(text);
  must(again, `formatted name-addr does not parse: ${text}`);
  must(again.displayName === (na.displayName === '' ? undefined : na.displayName) && again.uri === na.uri && sameParams(again.params, na.params), `name-addr round trip: ${JSON.stringify(na.displayName)} / ${text}`);
});

const viaSeeds = lazy(() => headerValues(/^(via|v)$/i).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean));
const sipVia = textTarget('sip.parseVia', viaSeeds, SIP_EXTRA, parseVia, (v) => {
  const again = parseVia(formatVia(v));
  must(again, `formatted Via does not parse: ${formatVia(v)}`);
  must(again.protocol === v.protocol && again.transport === v.transport && again.host === v.host && again.port === v.port && sameParams(again.params, v.params), `Via round trip: ${formatVia(v)}`);
});

const DIGEST_SEEDS = [
  'Digest realm="testrealm@host.com", qop="auth,auth-int", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"',
  'Digest realm="ims.test", nonce="abc", algorithm=MD5, qop="auth"',
  'Digest realm="ims.test", nonce="n\\"q", algorithm=SHA-256-sess, stale=TRUE',
  'Digest realm=ims.test,nonce=xyz,algorithm=AKAv1-MD5',
];
const sipDigest: ParserFuzzTarget<string> = {
  name: 'sip.parseDigestChallenge',
  input: (rnd) => mutateText(rnd, pickOne(rnd, DIGEST_SEEDS), ['Digest ', 'realm=', 'nonce=', '"', '\\', ',', 'qop=', 'algorithm=']),
  run(s) {
    const r = parseDigestChallenge(s);
    if (!r.ok) {
      must(r.error instanceof SipParseError, 'digest rejection is not a SipParseError');
      return 'rejected';
    }
    // Answering it never throws; an answer carries the challenge's realm and nonce back.
    const a = buildDigestAuthorization(r.challenge, { username: 'u@ims.test', password: 'p' }, { method: 'REGISTER', uri: 'sip:ims.test' }, 1, 'cn');
    if (!a.ok) {
      must(a.error instanceof SipParseError, 'digest answer failure is not a SipParseError');
      return 'accepted';
    }
    const p = parseAuthParams(a.value.slice('Digest '.length));
    must(p && p.get('realm') === r.challenge.realm && p.get('nonce') === r.challenge.nonce && p.get('username') === 'u@ims.test', `Authorization does not carry realm/nonce back: ${a.value}`);
    return 'accepted';
  },
  show: showText,
};

/** The SIP parsers: message, stream framer, URI, name-addr, Via, digest challenge. */
export function sipTargets(): ParserFuzzTarget<never>[] {
  return [sipParseMessage, sipFramer, sipUri, sipNameAddr, sipVia, sipDigest] as unknown as ParserFuzzTarget<never>[];
}

// ---------------------------------------------------------------- SDP

const sdp = (...lines: string[]) => [...lines, ''].join('\r\n');
const sdpSeeds = lazy(() => {
  const ex = rfc4567Examples();
  return [
    sdp('v=0', 'o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5', 's=SDP Seminar', 'i=A Seminar', 'u=http://www.example.com/seminars/sdp.pdf', 'e=j.doe@example.com (Jane Doe)', 'c=IN IP4 224.2.17.12/127', 't=2873397496 2873404696', 'a=recvonly', 'm=audio 49170 RTP/AVP 0', 'm=video 51372 RTP/AVP 99', 'a=rtpmap:99 h263-1998/90000'),
    sdp('v=0', 'o=sam 2890844526 2890842807 IN IP4 10.47.16.5', 's=SRTP Discussion', 'c=IN IP4 168.2.17.12', 't=2873397496 2873404696', 'm=audio 49170 RTP/SAVP 0',
      'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
      'a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP'),
    sdp('v=0', 'o=alice 2891092738 2891092738 IN IP4 lost.downtown.com', 's=Cool stuff', `a=key-mgmt:${ex.offerLine}`, 't=0 0', 'c=IN IP4 lost.downtown.com', 'm=audio 49000 RTP/SAVP 98', 'a=rtpmap:98 AMR/8000', 'm=video 52230 RTP/SAVP 31', 'a=rtpmap:31 H261/90000'),
    sdp('v=0', 'o=- 1 1 IN IP6 2001:db8::2', 's=-', 'c=IN IP6 2001:db8::2', 't=0 0', 'm=audio 0 RTP/AVP 0', 'm=audio 4000 RTP/SAVPF 96 0', 'a=rtcp-mux', 'a=sendonly', `a=key-mgmt:${ex.answerLine}`, 'a=3ge2ae:requested'),
    buildAudioSdp({ address: '192.0.2.7', port: 30000, protocol: 'RTP/SAVP', sessionId: 5, rtcpMux: true, direction: 'recvonly', crypto: ['1 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32'], attributes: ['3ge2ae:applied'] }),
  ];
});
const SDP_EXTRA = ['m=audio ', 'm=', 'c=IN IP4 ', 'a=crypto:', 'a=key-mgmt:mikey ', 'a=rtcp-mux', 'a=inactive', ' RTP/SAVP ', '/', '\r\nm=audio 1 RTP/AVP 0\r\n', 'a=rtpmap:', 'inline:', '|2^', '|1:4'];

const sdpParse: ParserFuzzTarget<string> = {
  name: 'sdp.parseSdp',
  input: (rnd) => mutateText(rnd, pickOne(rnd, sdpSeeds()), SDP_EXTRA),
  run(s) {
    const lenient = parseSdp(s, { malformedMedia: 'skip' }); // never throws
    for (const e of lenient.skipped) must(e instanceof SdpParseError, 'skipped entry is not an SdpParseError');
    let strict: ReturnType<typeof parseSdp> | undefined;
    try {
      strict = parseSdp(s);
    } catch (e) {
      must(e instanceof SdpParseError, `parseSdp threw ${String(e)}`);
      must(lenient.skipped.length > 0, 'strict parse failed where the lenient one skipped nothing');
    }
    for (const d of strict ? [strict, lenient] : [lenient]) {
      void d.connectionAddress;
      void d.direction;
      void d.keyMgmt;
      for (const m of d.media) {
        must(typeof m.type === 'string' && m.type !== '', `media type ${String(m.type)}`);
        must(typeof m.protocol === 'string' && m.protocol !== '', `protocol ${String(m.protocol)} is not a string`);
        must(Number.isInteger(m.port) && m.port >= 0 && m.port <= 65535, `port ${m.port}`);
        must(m.line > 0, 'media section without its m= line');
        void [m.formats, m.payloadTypes, m.active, m.srtp, m.connectionAddress, m.addressFamily, m.direction, m.rtcpMux, m.crypto, m.keyMgmt, m.e2ae, m.attribute('rtpmap')];
        for (const l of m.sdes()) must(l.attribute !== undefined || (l.error instanceof SdpAttributeError && l.error.cause instanceof SdesParseError), 'a=crypto error is not an SdpAttributeError from SdesParseError');
        try {
          m.mikey();
        } catch (e) {
          must(e instanceof SdpAttributeError, `mikey() threw ${String(e)}`);
        }
      }
      try {
        d.requireAudio();
      } catch (e) {
        must(e instanceof SdpMediaError, `requireAudio threw ${String(e)}`);
      }
    }
    return strict ? 'accepted' : 'rejected';
  },
  show: showText,
};

const cryptoSeeds = lazy(() => [
  '1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
  '1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
  '2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP',
  '3 AES_256_CM_HMAC_SHA1_80 inline:' + Buffer.alloc(46, 7).toString('base64') + ' KDR=10 UNENCRYPTED_SRTCP',
  '4 AEAD_AES_128_GCM inline:' + Buffer.alloc(28, 9).toString('base64') + '|1048576',
]);
const sdpCrypto: ParserFuzzTarget<string> = {
  name: 'sdp.readCryptoValue',
  input: (rnd) => mutateText(rnd, pickOne(rnd, cryptoSeeds()), ['inline:', '|', '2^', ':', ';inline:', '=', '==', 'a=crypto:', 'AES_CM_128_HMAC_SHA1_80']),
  run(s) {
    const r = readCryptoValue(s);
    if (r.error) {
      must(r.error instanceof SdpAttributeError && r.error.cause instanceof SdesParseError, `a=crypto rejection: ${String(r.error.cause)}`);
      return 'rejected';
    }
    const text = formatCryptoAttribute(r.attribute);
    const again = readCryptoValue(text);
    must(again.attribute, `formatted a=crypto does not parse: ${text}`);
    must(formatCryptoAttribute(again.attribute) === text && again.attribute.tag === r.attribute.tag && again.attribute.keyParams.length === r.attribute.keyParams.length, `a=crypto round trip: ${text}`);
    for (const [i, k] of r.attribute.keyParams.entries()) {
      const k2 = again.attribute.keyParams[i]!;
      must(Buffer.compare(k.keySalt, k2.keySalt) === 0 && k.lifetime === k2.lifetime && k.mki?.value === k2.mki?.value && k.mki?.length === k2.mki?.length, 'a=crypto key round trip');
    }
    return 'accepted';
  },
  show: showText,
};

const mikeyFixtures = lazy(() => {
  const f = fullFlow(world());
  const ex = rfc4567Examples();
  return [ex.offer, ex.answer, f.reqInit.bytes, f.reqResp.bytes, f.trInit.bytes, f.resInit.bytes, f.resResp.bytes, f.trResp.bytes, SAKKE_I_MESSAGE()];
});

const sdpKeyMgmt: ParserFuzzTarget<string> = {
  name: 'sdp.decodeMikeyKeyMgmt',
  input(rnd) {
    const fx = mikeyFixtures();
    const base = rnd() < 0.5 ? encodeKeyMgmtAttribute(pickOne(rnd, fx)) : encodeKeyMgmtAttribute(mutateBytes(rnd, pickOne(rnd, fx), fx));
    return rnd() < 0.5 ? mutateText(rnd, base, ['mikey ', ' ', '=', '==', 'a=key-mgmt:', 'AAAA', '+/']) : base;
  },
  run(s) {
    try {
      const k = decodeMikeyKeyMgmt(s);
      must(Buffer.compare(encodeMessage(k.message), k.bytes) === 0, 'encode(decode(key-mgmt)) != its octets');
      return 'accepted';
    } catch (e) {
      if (e instanceof FuzzPropertyError) throw e;
      must(e instanceof SdpAttributeError && (e.cause === undefined || e.cause instanceof MikeyError), `decodeMikeyKeyMgmt threw ${String(e)} (cause ${String((e as Error).cause)})`);
      return 'rejected';
    }
  },
  show: showText,
};

/** The SDP parsers: the description, a=crypto, a=key-mgmt. */
export function sdpTargets(): ParserFuzzTarget<never>[] {
  return [sdpParse, sdpCrypto, sdpKeyMgmt] as unknown as ParserFuzzTarget<never>[];
}

// ---------------------------------------------------------------- MIKEY and tickets

/** A MIKEY-SAKKE I_MESSAGE (RFC 6509) as buildGmkIMessage writes it (from test/sakke-world.ts, Dec 2026), for the decode path of receiveGmkIMessage. */
export const SAKKE_I_MESSAGE = lazy(() => new Uint8Array(Buffer.from([
  '011a05010b64966600010b00eeba6aa0000000000e10ad18c7e61e6553393c1fa285ab7504380e010100137369703a676d73',
  '40696d732e6578616d706c650e020100157369703a616c69636540696d732e6578616d706c650e0601001768747470733a2f',
  '2f6b6d732e696d732e6578616d706c650a0701001768747470733a2f2f6b6d732e696d732e6578616d706c651a0000002100',
  '010101011002010103011404010e0501000601000701010801010a01010b010a040101011104975409b665ce6691d94b7203',
  'b7fd180e84291a2eb057995a53f98474f6a484fb9be615a63ca868b88f7639beb692ca2d000ad3f61e6c3524196065c6884b',
  '7e57ca26aba90cf09a1aadecfd3025b925aab58d163042db89a36584f6bf48f9720e373efa9358f4bb3821e289ad22c86f32',
  'f31a4312d12684d07d1e8056c47e559f38aba091db7fa30f99d8ac863f43b8b9080741aefd33336d11aa3fe629cbc0f23c5d',
  '4ae6d85108341aec1df9254eda8ec52187dee901306ba457373165e118aa1d509cc7870afa55f59adfa7336155c2a894c1d6',
  '6709f75c39d7515616cdef17624a6d13636a38c8778fc9f63e9779e1b28729e0375298a1140b69e40875c1325ca2b565db05',
  '75c0b2e3b7e5d7f678b62081250a982041ff1d54d38ee414cd9145b9c83917d423a929815aa696cc4c6c26fc5e73644c5dd1',
  '47667730e42f86072211afb1f0d5ef84f17085ffeceeda4464ef04fe7998a6471467024264c022c6d6649d9740e3aa26e1ca',
  'f3d6d3cb140e09afd0ecf839bff378b7f2ca63de45e588dc3067c73c6eca98c4e68d8acb252e4c2ba5',
].join(''), 'hex')));

const mikeyDecode: ParserFuzzTarget<Uint8Array> = {
  name: 'mikey.decodeMessage',
  input(rnd) {
    const fx = mikeyFixtures();
    if (rnd() < 0.01) return Uint8Array.from({ length: randInt(rnd, 600) }, () => randInt(rnd, 256));
    return mutateBytes(rnd, pickOne(rnd, fx), fx);
  },
  run(b) {
    try {
      const m = decodeMessage(b);
      must(Buffer.compare(Buffer.from(encodeMessage(m)), Buffer.from(b)) === 0, 'encode(decode(b)) != b');
      return 'accepted';
    } catch (e) {
      if (e instanceof FuzzPropertyError) throw e;
      must(e instanceof MikeyParseError, `decodeMessage threw ${String(e)}`);
      must(e.offset >= 0 && e.offset <= b.length, `error offset ${e.offset} outside 0..${b.length}`);
      return 'rejected';
    }
  },
  show: showBytes,
};

const keyDataSeeds = lazy(() => {
  const lists: KeyData[][] = [
    [{ keyType: 6, key: new Uint8Array(32).fill(1), kv: { kvType: 0 } }, { keyType: 1, key: new Uint8Array(16).fill(2), salt: new Uint8Array(14).fill(3), kv: { kvType: 1, spi: Uint8Array.of(1, 2, 3, 4) } }],
    [{ keyType: 2, key: new Uint8Array(16).fill(4), kv: { kvType: 2, validFrom: Uint8Array.of(0, 1), validTo: Uint8Array.of(0xff, 0xff) } }],
    [{ keyType: 0, key: new Uint8Array(0), kv: { kvType: 0 } }],
  ];
  return lists.map(encodeKeyDataList);
});
const mikeyKeyData: ParserFuzzTarget<Uint8Array> = {
  name: 'mikey.decodeKeyDataList',
  input: (rnd) => mutateBytes(rnd, pickOne(rnd, keyDataSeeds()), keyDataSeeds()),
  run(b) {
    try {
      const kd = decodeKeyDataList(b);
      must(Buffer.compare(Buffer.from(encodeKeyDataList(kd)), Buffer.from(b)) === 0, 'encodeKeyDataList(decodeKeyDataList(b)) != b');
      return 'accepted';
    } catch (e) {
      if (e instanceof FuzzPropertyError) throw e;
      must(e instanceof MikeyParseError, `decodeKeyDataList threw ${String(e)}`);
      return 'rejected';
    }
  },
  show: showBytes,
};

/** The KMS codec and sealed tickets of the fixtures. */
export const ticketWorld = lazy(() => {
  const w = world();
  const codec = w.codec;
  const now = w.now;
  const tickets: TicketPayload[] = [
    codec.seal({ initiator: w.alice, responder: w.bob, policy: 'designated-device', validFromMs: now - 1000, validToMs: now + 3_600_000, issuedAtMs: now, keys: { mpki: new Uint8Array(16).fill(1), tgk: new Uint8Array(16).fill(2) }, kms: w.kms }),
    codec.seal({ initiator: w.carol, responder: uriIdentity('sip:x@y'), policy: 'group', validFromMs: now, validToMs: now + 10, issuedAtMs: now, keys: { mpki: new Uint8Array(32).fill(5), mpkr: new Uint8Array(32).fill(6), tgk: new Uint8Array(32).fill(7), tgkSalt: new Uint8Array(14).fill(8) } }),
    fullFlow(w).pending.ticket,
  ];
  return { codec, now, tickets };
});

const mikeyTicket: ParserFuzzTarget<TicketPayload> = {
  name: 'mikey.KmsTicketCodec.open',
  input(rnd) {
    const { tickets } = ticketWorld();
    const t = pickOne(rnd, tickets);
    const r = rnd();
    if (r < 0.7) return { ...t, ticketData: mutateBytes(rnd, t.ticketData, tickets.map((x) => x.ticketData)) };
    if (r < 0.8) return { ...t, ticketType: pickOne(rnd, [t.ticketType, 1, 2, 3, 0xffff]), subtype: pickOne(rnd, [t.subtype, 0, 2]), version: pickOne(rnd, [t.version, 0, 255]) };
    if (r < 0.9) return { ...t, tpData: t.tpData?.slice(0, randInt(rnd, (t.tpData?.length ?? 0) + 1)) };
    return { ...t, flags: { ...t.flags, K: !t.flags.K } };
  },
  run(t) {
    const { codec, now } = ticketWorld();
    try {
      const o = codec.open(t, now);
      must(o.ticketId.length === 16 && o.keys.mpki.length > 0 && o.validToMs >= now, 'opened ticket incomplete');
      return 'accepted';
    } catch (e) {
      if (e instanceof FuzzPropertyError) throw e;
      must(e instanceof MikeyError, `open threw ${String(e)}`);
      return 'rejected';
    }
  },
  show: (t) => `type ${t.ticketType}/${t.subtype}/${t.version} data ${showBytes(t.ticketData)}`,
};

const mikeyTransferInit: ParserFuzzTarget<Uint8Array> = {
  name: 'mikey.parseTransferInit',
  input(rnd) {
    const fx = mikeyFixtures();
    return mutateBytes(rnd, fx[4]!, fx);
  },
  run(b) {
    try {
      const p = parseTransferInit(b);
      must(p.ticket.kind === 'TICKET', 'TRANSFER_INIT without its TICKET');
      return 'accepted';
    } catch (e) {
      if (e instanceof FuzzPropertyError) throw e;
      must(e instanceof MikeyError, `parseTransferInit threw ${String(e)}`);
      return 'rejected';
    }
  },
  show: showBytes,
};

/** The MIKEY parsers: messages (all payloads, SAKKE I_MESSAGE included), KEMAC key data, tickets, TRANSFER_INIT. */
export function mikeyTargets(): ParserFuzzTarget<never>[] {
  return [mikeyDecode, mikeyKeyData, mikeyTicket, mikeyTransferInit] as unknown as ParserFuzzTarget<never>[];
}

// ---------------------------------------------------------------- bench

/**
 * Every SIP, SDP and MIKEY parser fuzzed with `inputsPerParser` inputs
 * (1,000,000 in `npm run bench`; pass a small count for a smoke test).
 */
export function runParserFuzzBench(inputsPerParser = 1_000_000, seed = 0x13f022): ParserFuzzResult[] {
  return [...sipTargets(), ...sdpTargets(), ...mikeyTargets()].map((t) => fuzzTarget(t, inputsPerParser, seed));
}

/** One line per parser: inputs, crashes, worst ms per input, inputs/s. */
export function formatParserFuzzBench(r: readonly ParserFuzzResult[]): string {
  return r
    .map((x) => `${x.parser.padEnd(28)} ${String(x.inputs).padStart(9)} inputs  ${String(x.crashes).padStart(3)} crashes  ${String(x.hangs).padStart(3)} hangs  worst ${x.worstMs.toFixed(2).padStart(7)} ms/input (first run ${x.firstRunWorstMs.toFixed(1)})  ${String(x.inputsPerSecond).padStart(8)} inputs/s  (${x.accepted} accepted, ${x.rejected} rejected)${x.failures.length ? `\n  first failure #${x.failures[0]!.index} (seed ${x.seed}): ${x.failures[0]!.error.split('\n')[0]}` : ''}`)
    .join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const n = Number(process.argv[2] ?? 1_000_000);
  console.log(formatParserFuzzBench(runParserFuzzBench(n)));
}
