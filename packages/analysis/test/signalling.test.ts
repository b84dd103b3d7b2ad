import { describe, expect, it } from 'vitest';
import { buildTcpFrame, buildUdpFrame, LINKTYPE, PcapWriter } from '@imslab/capture';
import { buildSenderReport } from '@imslab/rtp';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanLink, sdpEndpoints } from '../src/index.ts';

const INVITE = [
  'INVITE sip:bob@ims.test SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.2.10;branch=z9hG4bK1',
  'Call-ID: abc@127.0.1.100',
  'Content-Type: application/sdp',
  '',
  'v=0',
  'o=- 1 1 IN IP4 127.0.2.11',
  's=-',
  'c=IN IP4 127.0.2.11',
  't=0 0',
  'm=audio 30000 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz',
  'a=key-mgmt:mikey AQAFgQAB',
  'm=video 30002 RTP/AVP 96',
  'c=IN IP4 127.0.2.12',
  '',
].join('\r\n');

describe('signalling seen in the clear', () => {
  it('reads the media endpoints an SDP announces, session and media level', () => {
    expect(sdpEndpoints(INVITE)).toEqual([
      { endpoint: '127.0.2.11:30000', callId: 'abc@127.0.1.100', protocol: 'RTP/SAVP' },
      { endpoint: '127.0.2.12:30002', callId: 'abc@127.0.1.100', protocol: 'RTP/AVP' },
    ]);
    expect(sdpEndpoints('OPTIONS sip:x SIP/2.0\r\nCall-ID: 1\r\n\r\n')).toEqual([]);
  });

  it('counts SDES keys, MIKEY offers and MSRP in the clear on a link', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'imslab-sig-')), 'core.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    w.write(1, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.2.10', 5060, '127.0.2.20', 5060, Buffer.from(INVITE)));
    const msrp = Buffer.from('MSRP a786hjs2 SEND\r\nTo-Path: msrp://127.0.2.60:2855/s;tcp\r\nFrom-Path: msrp://127.0.1.100:2855/a;tcp\r\nMessage-ID: 1\r\nByte-Range: 1-5/5\r\nContent-Type: text/plain\r\n\r\nhello\r\n-------a786hjs2$\r\n');
    w.write(2, buildTcpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 2855, '127.0.2.60', 2855, msrp, { seq: 1, flags: 0x18 }));
    await w.close();
    const r = await scanLink('core', file, []);
    expect(r.signalling.plaintextSip).toBe(1);
    expect(r.signalling.exposedSdesKeys).toEqual(['WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz']);
    expect(r.signalling.mikeyOffers).toBe(1);
    expect(r.signalling.sdpEndpoints.map((e) => e.endpoint)).toEqual(['127.0.2.11:30000', '127.0.2.12:30002']);
    expect(r.signalling.plaintextMsrp).toBe(1);
    expect(r.signalling.msrpFlows).toEqual(['tcp 127.0.1.100:2855 > 127.0.2.60:2855']);
  });
});

describe('RTCP on media flows', () => {
  it('attributes SRTCP to the logged key that authenticates it', async () => {
    const { formatKeyLogEntry } = await import('@imslab/probe');
    const { generateKeySalt, splitKeySalt, SrtpContext } = await import('@imslab/srtp');
    const { writeFileSync } = await import('node:fs');
    const { loadKeyRing } = await import('../src/index.ts');
    const dir = mkdtempSync(join(tmpdir(), 'imslab-srtcp-'));
    const ks = generateKeySalt('AES_CM_128_HMAC_SHA1_80');
    writeFileSync(join(dir, 'k.jsonl'), formatKeyLogEntry({ kind: 'srtp', owner: 'alice', callId: 'c-9', dir: 'tx', suite: 'AES_CM_128_HMAC_SHA1_80', keySalt: ks.toString('base64'), keyMgmt: 'sdes', at: '' }));
    const ctx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', ...splitKeySalt('AES_CM_128_HMAC_SHA1_80', ks) });
    // RFC 3550 sec. 6.4.1 sender report, no report blocks: V=2, PT=200, length 6 (28 octets).
    const sr = buildSenderReport(0x11112222, 0, 0, 0, 0);
    const file = join(dir, 'a.pcap');
    const w = new PcapWriter(file, LINKTYPE.ETHERNET);
    w.write(1, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 40001, '127.0.1.11', 30001, ctx.protectRtcp(sr)));
    w.write(2, buildUdpFrame(LINKTYPE.ETHERNET, '127.0.1.100', 40001, '127.0.1.11', 30001, sr));
    await w.close();
    const r = await scanLink('access-a', file, loadKeyRing([join(dir, 'k.jsonl')]).keys);
    const f = r.media[0]!;
    expect(f.rtcp).toBe(2);
    expect(f.srtcp).toEqual({ 'alice/tx/c-9': 1 });
  });
});
