/** Writing an audio endpoint's SDP (RFC 4566 sec. 5) and reading it back. */
import { describe, expect, it } from 'vitest';
import { buildAudioSdp, parseSdp, SdpBuildError } from '../src/index.ts';

const KEY = 'PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'; // RFC 4568 sec. 4's key||salt

describe('buildAudioSdp', () => {
  it('writes one PCMU stream with the security lines, CRLF, and reads back the same', () => {
    const text = buildAudioSdp({
      address: '127.0.1.100', port: 40000, protocol: 'RTP/SAVP', sessionId: 7, sessionVersion: 2, direction: 'recvonly', rtcpMux: true,
      crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^20|1:4 KDR=1 UNENCRYPTED_SRTCP`], keyMgmt: ['mikey AQID'], attributes: ['3ge2ae:requested'],
    });
    expect(text.split('\r\n').slice(0, 6)).toEqual(['v=0', 'o=- 7 2 IN IP4 127.0.1.100', 's=imslab', 'c=IN IP4 127.0.1.100', 't=0 0', 'm=audio 40000 RTP/SAVP 0']);
    expect(text).toContain('\r\na=rtpmap:0 PCMU/8000\r\n');
    expect(text).toContain('\r\na=ptime:20\r\n');
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text).not.toMatch(/[^\r]\n/);
    const m = parseSdp(text).requireAudio();
    expect([m.connectionAddress, m.port, m.protocol, m.payloadTypes, m.direction, m.rtcpMux, m.e2ae]).toEqual(['127.0.1.100', 40000, 'RTP/SAVP', [0], 'recvonly', true, 'requested']);
    expect(m.crypto).toEqual([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}|2^20|1:4 KDR=1 UNENCRYPTED_SRTCP`]);
    expect(m.keyMgmt).toEqual(['mikey AQID']);
  });

  it('defaults: sendrecv written out, no rtcp-mux, IPv6 addresses as IP6', () => {
    const text = buildAudioSdp({ address: '2001:db8::1', port: 5004, protocol: 'RTP/AVP' });
    expect(text).toContain('c=IN IP6 2001:db8::1\r\n');
    expect(text).toContain('a=sendrecv\r\n');
    expect(text).not.toContain('rtcp-mux');
    expect(parseSdp(text).requireAudio()).toMatchObject({ addressFamily: 6, srtp: false });
  });

  it('refuses what SDP cannot carry, naming the field', () => {
    const base = { address: '10.0.0.1', port: 5000, protocol: 'RTP/SAVP' };
    const field = (spec: Parameters<typeof buildAudioSdp>[0]) => {
      try {
        buildAudioSdp(spec);
      } catch (e) {
        expect(e).toBeInstanceOf(SdpBuildError);
        return (e as SdpBuildError).field;
      }
      return null;
    };
    expect(field({ ...base, port: 65536 })).toBe('port');
    expect(field({ ...base, address: '' })).toBe('address');
    expect(field({ ...base, protocol: 'RTP/SAVP 0' })).toBe('protocol');
    expect(field({ ...base, crypto: ['1 AES_CM_128_HMAC_SHA1_80 inline:AAAA'] })).toBe('crypto');
    // A line break would smuggle a line of its own (here a second key) into the description.
    expect(field({ ...base, attributes: [`x\r\na=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`] })).toBe('attributes');
    expect(field({ ...base, keyMgmt: ['mikey'] })).toBe('keyMgmt');
    expect(field({ ...base, keyMgmt: ['mikey AQ\nID'] })).toBe('keyMgmt');
  });
});

describe('buildAudioSdp with extra streams', () => {
  const video = ['m=video 40002 RTP/SAVP 99', 'b=AS:900', 'a=rtpmap:99 H264/90000', 'a=fmtp:99 profile-level-id=42e00b;packetization-mode=1'];
  const text = ['m=text 40004 RTP/SAVP 100 98', 'a=rtpmap:100 red/1000', 'a=fmtp:100 98/98/98', 'a=rtpmap:98 t140/1000'];

  it('writes video and text after the audio stream, each with its direction and lines, and reads them back in order', () => {
    const sdp = buildAudioSdp({ address: '127.0.1.100', port: 40000, protocol: 'RTP/SAVP', keyMgmt: ['mikey AQID'], extraMedia: [{ lines: video, attributes: ['framerate:10'] }, { lines: text, direction: 'recvonly', crypto: [`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`] }] });
    const d = parseSdp(sdp);
    expect(d.media.map((m) => [m.type, m.port, m.protocol, m.payloadTypes, m.direction])).toEqual([
      ['audio', 40000, 'RTP/SAVP', [0], 'sendrecv'], ['video', 40002, 'RTP/SAVP', [99], 'sendrecv'], ['text', 40004, 'RTP/SAVP', [100, 98], 'recvonly'],
    ]);
    expect(sdp).toContain('\r\na=rtpmap:99 H264/90000\r\n');
    expect(sdp).toContain('\r\na=fmtp:100 98/98/98\r\n');
    expect(sdp).toContain('\r\nb=AS:900\r\n');
    expect(sdp).toMatch(/m=video[^]*a=framerate:10\r\n[^]*m=text/);
    expect(d.media[2]!.crypto).toEqual([`1 AES_CM_128_HMAC_SHA1_80 inline:${KEY}`]);
    expect(d.media[0]!.keyMgmt).toEqual(['mikey AQID']);
    expect(d.media[1]!.keyMgmt).toEqual([]);
  });

  it('refuses lines that would add a section, break a line, or smuggle security or direction lines in', () => {
    const base = { address: '127.0.0.1', port: 5004, protocol: 'RTP/AVP' };
    for (const lines of [[], ['a=rtpmap:99 H264/90000'], [...video, 'm=audio 1 RTP/AVP 0'], ['m=video 1 RTP/AVP 99\r\na=x'], [...video, 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:x'], [...video, 'a=inactive'], ['m=video x RTP/AVP 99']]) {
      expect(() => buildAudioSdp({ ...base, extraMedia: [{ lines }] }), JSON.stringify(lines)).toThrow(SdpBuildError);
    }
  });
});
