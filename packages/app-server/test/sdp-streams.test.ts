/**
 * The SDP helpers for offers with more than one stream: readExtraStreams
 * reads what follows the audio stream, acceptStream / refuseStream write the
 * answer's sections, and buildAnswer keeps the offer's m= count and order
 * (RFC 3264 sec. 6). Pure: no sockets.
 */
import { parseSdp } from '@imslab/sdp';
import { describe, expect, it } from 'vitest';
import { acceptStream, answerDirection, buildAnswer, readExtraStreams, readOffer, refuseStream, SdpError } from '../src/index.ts';

/** What a UE offers in poc-e2e mode: the shapes of @imslab/probe's VideoProbeSender and T140ProbeSender sdpLines. */
const VIDEO = [
  'm=video 40002 RTP/SAVP 99', 'b=AS:420', 'a=rtpmap:99 H264/90000',
  'a=fmtp:99 profile-level-id=42c00a;packetization-mode=1;sprop-parameter-sets=Z0LACpZUBQHsgA==,aM4G4g==', 'a=framerate:10',
];
const TEXT = ['m=text 40004 RTP/SAVP 100 98', 'a=rtpmap:100 red/1000', 'a=fmtp:100 98/98/98', 'a=rtpmap:98 t140/1000'];
const head = ['v=0', 'o=ue 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0'];
const AUDIO = ['m=audio 40000 RTP/SAVP 0', 'a=rtpmap:0 PCMU/8000', 'a=sendrecv', 'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz'];
const sdp = (...sections: string[][]) => [...head, ...sections.flat(), ''].join('\r\n');

describe('readExtraStreams', () => {
  it('reads each section after the audio one, in order, with the format lines an answer echoes', () => {
    const offer = sdp(AUDIO, [...VIDEO, 'a=sendonly'], TEXT, ['m=application 40006 UDP/DTLS/SCTP webrtc-datachannel', 'a=sctp-port:5000']);
    const s = readExtraStreams(offer);
    expect(s.map((x) => [x.index, x.type, x.port, x.profile])).toEqual([[1, 'video', 40002, 'RTP/SAVP'], [2, 'text', 40004, 'RTP/SAVP'], [3, 'application', 40006, 'UDP/DTLS/SCTP']]);
    expect(s[0]).toMatchObject({ payloadTypes: [99], formatLines: VIDEO.slice(1), direction: 'sendonly', address: '10.0.0.1', crypto: [], keyMgmt: [], rtcpMux: false });
    expect(s[1]).toMatchObject({ formats: ['100', '98'], payloadTypes: [100, 98], formatLines: TEXT.slice(1), direction: 'sendrecv' });
    expect(s[2]).toMatchObject({ formats: ['webrtc-datachannel'], payloadTypes: [], formatLines: [] });
    // readOffer still reads the audio alone.
    expect(readOffer(offer)).toMatchObject({ port: 40000, profile: 'RTP/SAVP' });
  });

  it('is empty for an audio-only offer, and refuses an offer whose audio is not its first section', () => {
    expect(readExtraStreams(sdp(AUDIO))).toEqual([]);
    expect(() => readExtraStreams(sdp(VIDEO, AUDIO))).toThrow(/RFC 3264/);
    expect(() => readExtraStreams(sdp(['m=audio 0 RTP/AVP 0'], AUDIO))).toThrow(SdpError);
    expect(() => readExtraStreams(sdp(VIDEO))).toThrow(/no m=audio/);
  });
});

describe('buildAnswer with extraMedia', () => {
  it('answers every offered section in the offer\'s order: accepted ones on our port with the offered formats, refused ones on port 0', () => {
    const offered = readExtraStreams(sdp(AUDIO, VIDEO, ['m=application 40006 UDP/DTLS/SCTP webrtc-datachannel'], TEXT));
    const extraMedia = [acceptStream(offered[0]!, { port: 30002 }), refuseStream(offered[1]!), acceptStream(offered[2]!, { port: 30004, profile: 'RTP/SAVP' })];
    const answer = buildAnswer({ address: '10.0.0.9', port: 30000, profile: 'RTP/SAVP', direction: 'sendrecv', extraMedia });
    const d = parseSdp(answer);
    expect(d.media.map((m) => [m.type, m.port, m.protocol, m.direction])).toEqual([
      ['audio', 30000, 'RTP/SAVP', 'sendrecv'], ['video', 30002, 'RTP/SAVP', 'sendrecv'], ['application', 0, 'UDP/DTLS/SCTP', 'inactive'], ['text', 30004, 'RTP/SAVP', 'sendrecv'],
    ]);
    // Read back as an offer would be: the formats came through.
    const back = readExtraStreams(answer);
    expect(back[0]!.payloadTypes).toEqual([99]);
    expect(back[0]!.formatLines).toEqual(expect.arrayContaining(VIDEO.slice(1)));
    expect(back[2]!.formatLines).toEqual(expect.arrayContaining(TEXT.slice(1)));
    expect(back.every((x) => x.crypto.length === 0)).toBe(true);
    // Without extraMedia: one section, as before.
    expect(parseSdp(buildAnswer({ address: '10.0.0.9', port: 30000, profile: 'RTP/SAVP', direction: 'sendrecv' })).media).toHaveLength(1);
  });

  it('answers a direction with its mirror (RFC 3264 sec. 6.1), and refuses what the writer could not echo without failing', () => {
    expect(['sendrecv', 'sendonly', 'recvonly', 'inactive'].map((d) => answerDirection(d as never))).toEqual(['sendrecv', 'recvonly', 'sendonly', 'inactive']);
    const [v] = readExtraStreams(sdp(AUDIO, [...VIDEO, 'a=recvonly']));
    expect(acceptStream(v!, { port: 1 }).direction).toBe('sendonly');
    const odd = readExtraStreams(sdp(AUDIO, ['m=message 40008 TCP_X/MSRP *']))[0]!;
    const answer = buildAnswer({ address: '10.0.0.9', port: 30000, profile: 'RTP/SAVP', direction: 'sendrecv', extraMedia: [refuseStream(odd)] });
    expect(parseSdp(answer).media[1]).toMatchObject({ type: 'message', port: 0 });
  });
});
