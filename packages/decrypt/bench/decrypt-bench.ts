/**
 * Cost of the run's evidence files: mergeCaptures with the TLS secrets
 * (all-links.pcapng) and decryptCapture (decrypted.pcapng + WAVs) on
 * synthetic link captures shaped like a run's: three links, every call's
 * media crossing all three (e2e), two keys per call, some calls unprotected.
 *
 *   npx tsx packages/decrypt/bench/decrypt-bench.ts gen <dir> <packets> [plaintext share]
 *   npx tsx packages/decrypt/bench/decrypt-bench.ts run <dir>
 *
 * `gen` and `run` are separate processes so the peak RSS `run` reports is
 * the merge and the decryption alone.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildUdpFrame, LINKTYPE, mergeCaptures, PcapWriter } from '@imslab/capture';
import { decryptCapture, type DecryptKey } from '../src/index.ts';
import { contextFor, keySaltFor, rtpStream, senderReports } from '../test/synth.ts';

const LINKS = ['access-a', 'core', 'access-b'] as const;
/** Packets per direction of one call, at most: 60 s at 50 packets/s. */
const MAX_PER_DIRECTION = 3000;
/** Fake TLS secrets as a run's key logs hold them (five lines per TLS 1.3 session). */
const TLS_LOG = Array.from({ length: 20 }, (_, i) => `CLIENT_TRAFFIC_SECRET_0 ${i.toString(16).padStart(64, '0')} ${'ab'.repeat(48)}`).join('\n');

async function gen(dir: string, packets: number, plainShare: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const calls = Math.max(1, Math.round(packets / (MAX_PER_DIRECTION * 2 * LINKS.length)));
  const perDirection = Math.round(packets / (calls * 2 * LINKS.length));
  const writers = LINKS.map((l) => new PcapWriter(join(dir, `${l}.pcap`), LINKTYPE.ETHERNET, 0));
  const keys: DecryptKey[] = [];
  let n = 0;
  const t0 = 1_700_000_000_000_000;
  // Calls start 1 s apart and overlap; packets are written per link in time order, so streams interleave.
  type Ev = { us: number; link: number; frame: Buffer };
  const events: Ev[] = [];
  for (let c = 0; c < calls; c++) {
    const plain = c < Math.round(calls * plainShare);
    for (const dir of [0, 1]) {
      const suite = c % 5 === 4 ? 'AEAD_AES_128_GCM' : 'AES_CM_128_HMAC_SHA1_80';
      const seed = 2 * c + dir + 1;
      const ctx = contextFor(suite, seed);
      if (!plain) keys.push({ id: `call${c}/${dir}`, suite, keySalt: keySaltFor(suite, seed).toString('base64') });
      const ssrc = 0x10000 + 2 * c + dir;
      const rtp = rtpStream({ ssrc, startSeq: (c * 7919) & 0xffff, count: perDirection, stream: c % 8 });
      const rtcp = senderReports(ssrc, Math.ceil(perDirection / 250));
      const wire = plain ? rtp : rtp.map((p) => ctx.protectRtp(p));
      const rtcpWire = plain ? rtcp : rtcp.map((p) => ctx.protectRtcp(p));
      for (const [link, _] of LINKS.entries()) {
        const a = `10.${link}.${c >> 8}.${c & 0xff}`;
        const b = `10.${link}.200.${dir + 1}`;
        const [src, dst] = dir === 0 ? [a, b] : [b, a];
        const start = t0 + c * 1_000_000 + link * 300 + dir * 7000;
        wire.forEach((p, i) => events.push({ us: start + i * 20_000, link, frame: buildUdpFrame(LINKTYPE.ETHERNET, src, 40000, dst, 30000, p) }));
        rtcpWire.forEach((p, i) => events.push({ us: start + 5000 + i * 5_000_000, link, frame: buildUdpFrame(LINKTYPE.ETHERNET, src, 40001, dst, 30001, p) }));
        n += wire.length + rtcpWire.length;
      }
    }
  }
  events.sort((x, y) => x.us - y.us);
  for (const e of events) writers[e.link]!.write(e.us, e.frame);
  for (const w of writers) await w.close();
  writeFileSync(join(dir, 'keys.json'), JSON.stringify(keys));
  writeFileSync(join(dir, 'tls-keys.log'), TLS_LOG);
  console.log(JSON.stringify({ calls, packets: n, keys: keys.length, plaintextCalls: Math.round(calls * plainShare) }));
}

async function run(dir: string): Promise<void> {
  const keys = JSON.parse(readFileSync(join(dir, 'keys.json'), 'utf8')) as DecryptKey[];
  let t = performance.now();
  const merged = await mergeCaptures(LINKS.map((name) => ({ name, path: join(dir, `${name}.pcap`) })), join(dir, 'all-links.pcapng'), { tlsKeyLogFiles: [join(dir, 'tls-keys.log')] });
  const mergeMs = performance.now() - t;
  t = performance.now();
  const r = await decryptCapture(join(dir, 'all-links.pcapng'), join(dir, 'decrypted.pcapng'), keys, { tlsKeyLogFiles: [join(dir, 'tls-keys.log')] });
  const decryptMs = performance.now() - t;
  const mib = (f: string): number => Math.round(statSync(join(dir, f)).size / 2 ** 20);
  console.log(JSON.stringify({
    packets: merged.packets, keys: keys.length, mergeMs: Math.round(mergeMs), decryptMs: Math.round(decryptMs),
    decryptUsPerPacket: +((decryptMs * 1000) / merged.packets).toFixed(2),
    decryptedRtp: r.decryptedRtp, decryptedRtcp: r.decryptedRtcp, untouchedRtpLike: r.untouchedRtpLike, attempts: r.attempts,
    streams: r.streams.length, wavs: r.streams.filter((s) => s.audio && 'file' in s.audio).length,
    notDecrypted: r.streams.reduce((s, x) => s + x.notDecrypted, 0),
    allLinksMiB: mib('all-links.pcapng'), decryptedMiB: mib('decrypted.pcapng'),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  }));
}

const [mode, dir, packets, share] = process.argv.slice(2);
if (mode === 'gen' && dir && packets) await gen(dir, Number(packets), Number(share ?? 0.1));
else if (mode === 'run' && dir) await run(dir);
else {
  console.error('usage: decrypt-bench.ts gen <dir> <packets> [plaintext share] | run <dir>');
  process.exit(2);
}
