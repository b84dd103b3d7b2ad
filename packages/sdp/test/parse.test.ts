/** Parsing and the typed accessors, on the RFC 4566, 4568, 4567, 3264 and 5761 examples, and on malformed SDP. */
import { describe, expect, it } from 'vitest';
import { MikeyParseError } from '@imslab/mikey';
import { SdesParseError } from '@imslab/srtp';
import { parseSdp, SdpAttributeError, SdpMediaError, SdpParseError, splitAttribute } from '../src/index.ts';

const sdp = (...lines: string[]) => [...lines, ''].join('\r\n');

// RFC 4566 sec. 5, the example session description (multicast c= with TTL, session-level a=recvonly).
const RFC4566_SEC5 = sdp(
  'v=0',
  'o=jdoe 2890844526 2890842807 IN IP4 10.47.16.5',
  's=SDP Seminar',
  'i=A Seminar on the session description protocol',
  'u=http://www.example.com/seminars/sdp.pdf',
  'e=j.doe@example.com (Jane Doe)',
  'c=IN IP4 224.2.17.12/127',
  't=2873397496 2873404696',
  'a=recvonly',
  'm=audio 49170 RTP/AVP 0',
  'm=video 51372 RTP/AVP 99',
  'a=rtpmap:99 h263-1998/90000',
);

// RFC 4568 sec. 7.1.5, the example offer: two a=crypto lines, MKIs, two keys on the second, a session parameter.
const RFC4568_OFFER = sdp(
  'v=0',
  'o=sam 2890844526 2890842807 IN IP4 10.47.16.5',
  's=SRTP Discussion',
  'i=A discussion of Secure RTP',
  'u=http://www.example.com/seminars/srtp.pdf',
  'e=marge@example.com (Marge Simpson)',
  'c=IN IP4 168.2.17.12',
  't=2873397496 2873404696',
  'm=audio 49170 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
  'a=crypto:2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP',
);

// RFC 4568 sec. 7.1.5, the example answer: the first line accepted with the answerer's key.
const RFC4568_ANSWER = sdp(
  'v=0',
  'o=jill 25690844 8070842634 IN IP4 10.47.16.5',
  's=SRTP Discussion',
  'c=IN IP4 168.2.17.11',
  't=2873397526 2873405696',
  'm=audio 32640 RTP/SAVP 0',
  'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:4',
);

// RFC 4567 sec. 5.1: the a=key-mgmt value of the example offer (a MIKEY PSK I_MESSAGE, 132 octets).
const RFC4567_MIKEY = 'mikey AQAFgM0XflABAAAAAAAAAAAAAAsAyONQ6gAAAAAGEEoo2pee4hp2UaDX8ZE22YwKAAAPZG9uYWxkQGR1Y2suY29tAQAAAAAAAQAk0JKpgaVkDaawi9whVBtBt0KZ14ymNuu62+Nv3ozPLygwK/GbAV9iemnGUIZ19fWQUOSrzKTAv9zV';

describe('RFC 4566 sec. 5 example', () => {
  const d = parseSdp(RFC4566_SEC5);

  it('reads both m= sections with their ports, protocols and formats', () => {
    expect(d.media.map((m) => [m.type, m.port, m.protocol, m.formats, m.payloadTypes])).toEqual([
      ['audio', 49170, 'RTP/AVP', ['0'], [0]],
      ['video', 51372, 'RTP/AVP', ['99'], [99]],
    ]);
    expect(d.media.map((m) => m.line)).toEqual([10, 11]);
  });

  it('c= at session level applies to every section, without the multicast TTL (sec. 5.7)', () => {
    expect(d.connectionAddress).toBe('224.2.17.12');
    expect(d.media.map((m) => [m.connectionAddress, m.addressFamily])).toEqual([['224.2.17.12', 4], ['224.2.17.12', 4]]);
  });

  it('a session-level direction applies to every section without its own (sec. 6)', () => {
    expect(d.media.map((m) => m.direction)).toEqual(['recvonly', 'recvonly']);
    expect(d.media.every((m) => !m.srtp && !m.rtcpMux)).toBe(true);
  });
});

describe('RFC 4568 sec. 7.1.5 offer and answer (a=crypto through @imslab/srtp)', () => {
  it('keeps every a=crypto line whole, session parameters included', () => {
    const m = parseSdp(RFC4568_OFFER).requireAudio('the offer');
    expect(m.srtp).toBe(true);
    expect(m.protocol).toBe('RTP/SAVP');
    expect(m.crypto).toEqual([
      '1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4 FEC_ORDER=FEC_SRTP',
      '2 F8_128_HMAC_SHA1_80 inline:MTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5QUJjZGVm|2^20|1:4;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|2^20|2:4 FEC_ORDER=FEC_SRTP',
    ]);
  });

  it('reads the keys with the SDES codec: tags, suites, key||salt, lifetime, MKI, session parameters', () => {
    const [a, b] = parseSdp(RFC4568_OFFER).media[0]!.sdes();
    expect(a!.attribute).toMatchObject({ tag: 1, suite: 'AES_CM_128_HMAC_SHA1_80', sessionParams: ['FEC_ORDER=FEC_SRTP'] });
    expect(a!.attribute!.keyParams[0]).toMatchObject({ lifetime: 2 ** 20, mki: { value: 1, length: 4 } });
    expect(a!.attribute!.keyParams[0]!.keySalt.toString('hex')).toBe('59535f5f5f73656d63746c202829207b' + '093232303b7d0a7d0a756e6c6573');
    expect(b!.attribute!.keyParams.map((k) => k.mki)).toEqual([{ value: 1, length: 4 }, { value: 2, length: 4 }]);
  });

  it('a second session parameter survives (sdp-transform alone keeps only the first)', () => {
    const m = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 5000 RTP/SAVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR KDR=1 UNENCRYPTED_SRTCP')).media[0]!;
    expect(m.sdes()[0]!.attribute!.sessionParams).toEqual(['KDR=1', 'UNENCRYPTED_SRTCP']);
  });

  it('reads the answer', () => {
    const m = parseSdp(RFC4568_ANSWER).requireAudio('the answer');
    expect([m.connectionAddress, m.port, m.direction]).toEqual(['168.2.17.11', 32640, 'sendrecv']);
    expect(m.sdes()[0]!.attribute!.keyParams[0]!.keySalt.toString('base64')).toBe('PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR');
  });

  it('an unusable a=crypto line is a value carrying the codec error, never a throw', () => {
    const m = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 5000 RTP/SAVP 0', 'a=crypto:bad', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA')).media[0]!;
    expect(m.crypto).toEqual(['bad', '1 AES_CM_128_HMAC_SHA1_80 inline:AAAA']);
    const [bad, short] = m.sdes();
    expect(bad!.error).toBeInstanceOf(SdpAttributeError);
    expect(bad!.error!.cause).toBeInstanceOf(SdesParseError);
    expect(short!.error!.message).toMatch(/^a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA: .*30 octets/);
    // The crypto lines are not repeated among the other attributes.
    expect(m.attributes).toEqual([]);
  });
});

describe('RFC 4567 a=key-mgmt (MIKEY through @imslab/mikey)', () => {
  const offer = (session: string[], media: string[]) => sdp('v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', ...session, 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 49000 RTP/SAVP 0', ...media);

  it('a session-level a=key-mgmt applies to every stream; a media-level one comes first (sec. 3.1)', () => {
    const d = parseSdp(offer([`a=key-mgmt:${RFC4567_MIKEY}`], ['a=key-mgmt:mikey AQID']));
    expect(d.keyMgmt).toEqual([RFC4567_MIKEY]);
    expect(d.media[0]!.keyMgmt).toEqual(['mikey AQID', RFC4567_MIKEY]);
  });

  it('decodes the RFC 4567 sec. 5.1 message with the MIKEY codec', () => {
    const [k] = parseSdp(offer([`a=key-mgmt:${RFC4567_MIKEY}`], [])).media[0]!.mikey();
    expect(k!.bytes.length).toBe(132);
    expect(k!.message.header.dataType).toBe(0); // PSK I_MESSAGE (RFC 3830 sec. 6.1)
  });

  it('says which value does not decode, with the MIKEY error as the cause', () => {
    const m = parseSdp(offer([], ['a=key-mgmt:mikey AAAA'])).media[0]!;
    try {
      m.mikey();
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(SdpAttributeError);
      expect((e as SdpAttributeError).attribute).toBe('key-mgmt');
      expect((e as SdpAttributeError).cause).toBeInstanceOf(MikeyParseError);
      expect((e as Error).message).toMatch(/^a=key-mgmt:mikey AAAA: MIKEY data unreadable/);
    }
  });

  it('other key management protocols are kept but not decoded', () => {
    const m = parseSdp(offer([], ['a=key-mgmt:other AQID'])).media[0]!;
    expect(m.keyMgmt).toEqual(['other AQID']);
    expect(m.mikey()).toEqual([]);
  });
});

describe('direction (RFC 3264 sec. 5.1), rtcp-mux (RFC 5761 sec. 5.1.1), a=3ge2ae (TS 24.229)', () => {
  it('media level wins over session level; sendrecv is the default', () => {
    const d = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'a=sendonly', 'm=audio 5000 RTP/AVP 0', 'a=inactive', 'm=audio 5002 RTP/AVP 0'));
    expect(d.media.map((m) => m.direction)).toEqual(['inactive', 'sendonly']);
    expect(parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 5000 RTP/AVP 0')).media[0]!.direction).toBe('sendrecv');
  });

  it('reads a=rtcp-mux', () => {
    const d = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 5000 RTP/SAVPF 0', 'a=rtcp-mux'));
    expect([d.media[0]!.rtcpMux, d.media[0]!.srtp]).toEqual([true, true]);
  });

  it('reads a=3ge2ae at media level, else session level, and keeps it among the other attributes', () => {
    const d = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'a=3ge2ae:applied', 'm=audio 5000 RTP/SAVP 0', 'a=3ge2ae:requested', 'm=audio 5002 RTP/SAVP 0'));
    expect(d.media.map((m) => m.e2ae)).toEqual(['requested', 'applied']);
    expect(d.media[0]!.attributes).toEqual([{ name: '3ge2ae', value: 'requested' }]);
    expect(d.attributes).toEqual([{ name: '3ge2ae', value: 'applied' }]);
  });

  it('a media-level c= overrides the session level; IPv6 is read too', () => {
    const d = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=video 5000 RTP/AVP 96', 'm=audio 6000 RTP/AVP 0', 'c=IN IP6 2001:db8::9'));
    expect(d.requireAudio()).toMatchObject({ port: 6000, connectionAddress: '2001:db8::9', addressFamily: 6 });
  });
});

describe('what cannot be used says why', () => {
  const media = (e: unknown) => (e as Error).message;
  const fails = (text: string, what?: string) => {
    try {
      parseSdp(text).requireAudio(what);
    } catch (e) {
      expect(e).toBeInstanceOf(SdpMediaError);
      return media(e);
    }
    throw new Error('no SdpMediaError');
  };

  it('no audio, only a disabled audio stream (RFC 3264 sec. 6), no c= address', () => {
    expect(fails('', 'the offer')).toBe('the offer has no m=audio stream');
    expect(fails(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=video 5000 RTP/AVP 96'))).toBe('the SDP has no m=audio stream');
    expect(fails(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 0 RTP/AVP 0'))).toBe('the audio stream is disabled (port 0)');
    expect(fails(sdp('v=0', 'm=audio 5000 RTP/AVP 0'), 'the answer')).toBe('the answer has no c= address for its audio');
  });

  it('takes the first audio stream in use, after a rejected one', () => {
    expect(parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio 0 RTP/AVP 0', 'm=audio 7000 RTP/AVP 0')).requireAudio().index).toBe(1);
  });

  it('an m= line that is not <media> <port> <proto> <fmt> is a parse error naming the line (RFC 4566 sec. 5.14)', () => {
    for (const [line, text] of [[3, 'm=audio x RTP/AVP 0'], [3, 'm=audio 70000 RTP/AVP 0'], [3, 'm=audio 5000/2 RTP/AVP 0']] as const) {
      try {
        parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', text));
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(SdpParseError);
        expect([(e as SdpParseError).line, (e as SdpParseError).text]).toEqual([line, text]);
        expect((e as Error).message).toMatch(/RFC 4566 sec\. 5\.14/);
      }
    }
  });

  it('an observer can have unreadable m= sections skipped and listed, and keep the rest', () => {
    const d = parseSdp(sdp('v=0', 'c=IN IP4 10.0.0.1', 'm=audio x RTP/AVP 0', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA', 'm=audio 5000 RTP/SAVP 0', 'a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'), { malformedMedia: 'skip' });
    expect(d.media.map((m) => [m.index, m.port, m.crypto.length])).toEqual([[0, 5000, 1]]);
    expect(d.skipped.map((e) => e.line)).toEqual([3]);
  });

  it('garbage lines are skipped as sdp-transform skips them; LF-only and CR line ends work', () => {
    const d = parseSdp('v=0\nnot sdp\nc=IN IP4 10.0.0.1\rm=audio 5000 RTP/AVP 0\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\n');
    expect(d.requireAudio()).toMatchObject({ port: 5000, connectionAddress: '10.0.0.1', line: 4 });
    expect(d.media[0]!.crypto).toHaveLength(1);
  });
});

describe('splitAttribute (RFC 4566 sec. 5.13)', () => {
  it('takes a=name:value, name:value (tshark) and flags', () => {
    expect(splitAttribute('a=crypto:1 X inline:Y')).toEqual({ name: 'crypto', value: '1 X inline:Y' });
    expect(splitAttribute('key-mgmt:mikey A:B')).toEqual({ name: 'key-mgmt', value: 'mikey A:B' });
    expect(splitAttribute('rtcp-mux')).toEqual({ name: 'rtcp-mux', value: '' });
  });
});
