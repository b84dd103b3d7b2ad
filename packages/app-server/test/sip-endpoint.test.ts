/**
 * The application-server core against a hand-written SIP peer on real UDP
 * sockets: SipEndpoint/UasCall (answer, 2xx retransmission until the ACK,
 * BYE, CANCEL, OPTIONS, 405/400/500/481, our own BYE along the route set),
 * the SDP helpers, ControlServer and bindRtp. Loopback 127.0.11.1-.20 only.
 */
import { createSocket, type Socket } from 'node:dgram';
import { request as httpRequest } from 'node:http';
import { createRequest, cseqOf, fromOf, parseNameAddr, tagOf, toOf, type SipRequest, type SipResponse } from '@imslab/sip';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SipLogger, bindRtp, buildAnswer, readOffer, SdpError, SipEndpoint, type EndReason, type UasCall } from '../src/index.ts';
import { ControlServer, HttpError } from '@imslab/element-kit';
import { isRequest, isResponse, offerSdp, RtpSink, SipPeer, sleep, UacCall, until } from '@imslab/sip/test-peer';

const EP_ADDR = '127.0.11.2';
const EP_PORT = 25_070;
const PEER_ADDR = '127.0.11.3';
const PROXY_ADDR = '127.0.11.4';
const CONTROL_ADDR = '127.0.11.5';
const RTP_ADDR = '127.0.11.6';

describe('SipEndpoint', () => {
  let ep: SipEndpoint;
  let peer: SipPeer;
  let logLines: string[];
  /** What the endpoint does with each new call; tests replace it. */
  let handler: (call: UasCall) => void | Promise<void>;
  /** Every call the handler saw, in order. */
  let calls: UasCall[];

  beforeEach(async () => {
    logLines = [];
    calls = [];
    handler = () => undefined;
    ep = new SipEndpoint(EP_ADDR, EP_PORT, 'vm', new SipLogger('test', 'ep', (l) => logLines.push(l)), (c) => {
      calls.push(c);
      return handler(c);
    });
    await ep.start();
    peer = await SipPeer.open(PEER_ADDR);
  });

  afterEach(async () => {
    await ep.close();
    await peer.close();
  });

  const uac = (over: Partial<ConstructorParameters<typeof UacCall>[1]> = {}) =>
    new UacCall(peer, { host: EP_ADDR, port: EP_PORT, uri: 'sip:vm@ims.test', from: 'sip:alice@ims.test', to: 'sip:vm@ims.test', ...over });
  const sdp = offerSdp({ address: PEER_ADDR, port: 40_000 });
  const answerSdp = buildAnswer({ address: EP_ADDR, port: 41_000, profile: 'RTP/AVP', direction: 'sendrecv' });
  /** An out-of-dialog request from alice with a branch, tag and Call-ID the test can name. */
  const request = (method: string, branch: string, fromTag: string, callId: string, cseq: number, headers: Array<[string, string]> = []) =>
    createRequest({ method, uri: 'sip:vm@ims.test', via: { transport: 'UDP', host: PEER_ADDR, port: peer.port, branch }, from: `<sip:alice@ims.test>;tag=${fromTag}`, to: '<sip:vm@ims.test>', callId, cseq, headers });

  it('answers an INVITE with 100, then the handler 200 with To-tag, Contact, Record-Route and SDP', async () => {
    handler = (c) => c.answer(answerSdp);
    const u = uac({ headers: [['Record-Route', `<sip:${PROXY_ADDR}:5999;lr>`], ['Record-Route', '<sip:pcscf.ims.test;lr>']] });
    await u.invite(sdp);
    const trying = await peer.response(100, 'INVITE', u.callId);
    expect(tagOf(toOf(trying))).toBeUndefined();
    const ok = await u.final();
    expect(ok.status).toBe(200);
    const call = calls[0]!;
    expect(calls).toHaveLength(1);
    expect(tagOf(toOf(ok))).toBe(call.toTag);
    expect(tagOf(fromOf(ok))).toBe(u.fromTag);
    expect(ok.headers.get('Call-ID')).toBe(u.callId);
    expect(ok.headers.get('CSeq')).toBe('1 INVITE');
    expect(ok.headers.get('Contact')).toBe(`<sip:vm@${EP_ADDR}:${EP_PORT};transport=udp>`);
    expect(ok.headers.get('Contact')).toBe(ep.contact);
    expect(ok.headers.getAll('Record-Route')).toEqual([`<sip:${PROXY_ADDR}:5999;lr>`, '<sip:pcscf.ims.test;lr>']);
    expect(ok.headers.get('Content-Type')).toBe('application/sdp');
    expect(ok.body.toString()).toBe(answerSdp);
    // what the handler saw of the offer
    expect(call.caller).toBe('sip:alice@ims.test');
    expect(call.requestUri).toBe('sip:vm@ims.test');
    expect(call.offerSdp).toBe(sdp);
    expect(call.divertedFrom).toBeNull();
    expect(call.state).toBe('answered');
    await u.ack2xx(ok);
    await until(() => call.state === 'confirmed', 'the call is confirmed');
  });

  it('takes the caller from P-Asserted-Identity and the diverting user from Diversion', async () => {
    handler = (c) => c.reject(486, 'Busy Here (test)');
    const u = uac({ headers: [['P-Asserted-Identity', '<sip:bob@ims.test>'], ['Diversion', '<sip:carol@ims.test>;reason=no-answer']] });
    await u.invite(sdp);
    const r = await u.final();
    expect(r.status).toBe(486);
    expect(r.reason).toBe('Busy Here (test)');
    expect(tagOf(toOf(r))).toBe(calls[0]!.toTag);
    expect(calls[0]!.caller).toBe('sip:bob@ims.test');
    expect(calls[0]!.divertedFrom).toBe('sip:carol@ims.test');
    expect(calls[0]!.endReason).toBe('rejected');
    await u.ackNon2xx(r);
  });

  it('retransmits the 200 until the ACK (T1, then 2*T1) and stops after it', async () => {
    const confirmed: number[] = [];
    handler = (c) => {
      c.onConfirmed(() => confirmed.push(performance.now()));
      c.answer(answerSdp);
    };
    const u = uac();
    await u.invite(sdp);
    const is200 = isResponse(200, 'INVITE');
    const first = await peer.nextReceived(is200, 'first 200');
    const second = await peer.nextReceived(is200, 'retransmitted 200', 2000);
    const gap = second.at - first.at;
    expect(gap).toBeGreaterThanOrEqual(400);
    expect(gap).toBeLessThan(900);
    expect(second.msg.body.toString()).toBe(answerSdp);
    expect(tagOf(toOf(second.msg))).toBe(tagOf(toOf(first.msg)));
    await u.ack2xx(first.msg as SipResponse);
    await until(() => confirmed.length === 1, 'onConfirmed ran');
    expect(calls[0]!.state).toBe('confirmed');
    // the next retransmission was due 1 s after the second one: none may come
    await sleep(1300);
    expect(peer.all(is200)).toHaveLength(2);
    // a second ACK (e.g. retransmitted) changes nothing
    await u.ack2xx(first.msg as SipResponse);
    await sleep(50);
    expect(confirmed).toHaveLength(1);
  });

  it('answers BYE with 200 and ends the call with reason bye', async () => {
    const ended: EndReason[] = [];
    handler = (c) => {
      c.onEnded((r) => ended.push(r));
      c.answer(answerSdp);
    };
    const u = uac();
    await u.invite(sdp);
    const ok = await u.final();
    await u.ack2xx(ok);
    await until(() => calls[0]?.state === 'confirmed', 'confirmed');
    await u.bye();
    const r = await peer.response(200, 'BYE', u.callId);
    expect(tagOf(toOf(r))).toBe(calls[0]!.toTag);
    expect(r.headers.get('CSeq')).toBe('2 BYE');
    expect(ended).toEqual(['bye']);
    expect(calls[0]!.state).toBe('ended');
    expect(calls[0]!.endReason).toBe('bye');
  });

  it('answers BYE for an unknown dialog 481, and an INVITE with a To-tag for an unknown dialog 481', async () => {
    const u = uac();
    u.toTag = 'nosuchtag';
    await u.bye();
    expect((await peer.response(481, 'BYE', u.callId)).headers.get('Call-ID')).toBe(u.callId);
    const v = uac();
    const stale = v.inviteRequest(sdp);
    stale.headers.set('To', '<sip:vm@ims.test>;tag=stale');
    await peer.send(stale, EP_ADDR, EP_PORT);
    const r = await peer.response(481, 'INVITE', v.callId);
    expect(r.reason).toBe('Call/Transaction Does Not Exist');
    expect(calls).toHaveLength(0);
  });

  it('answers CANCEL before the answer with 200, and the INVITE with 487', async () => {
    const ended: EndReason[] = [];
    handler = (c) => c.onEnded((r) => ended.push(r)); // never answers
    const u = uac();
    await u.invite(sdp);
    await peer.response(100, 'INVITE', u.callId);
    await until(() => calls.length === 1, 'the handler saw the call');
    await u.cancel();
    const ok = await peer.response(200, 'CANCEL', u.callId);
    expect(ok.headers.get('CSeq')).toBe('1 CANCEL');
    const terminated = await u.final();
    expect(terminated.status).toBe(487);
    expect(terminated.headers.get('CSeq')).toBe('1 INVITE');
    expect(tagOf(toOf(terminated))).toBe(calls[0]!.toTag);
    await u.ackNon2xx(terminated);
    expect(calls[0]!.state).toBe('ended');
    expect(ended).toHaveLength(1);
    // a late answer from the handler sends nothing
    calls[0]!.answer(answerSdp);
    await sleep(100);
    expect(peer.all(isResponse(200, 'INVITE'))).toHaveLength(0);
  });

  it('reports a CANCELled call as ended by cancel', async () => {
    const ended: EndReason[] = [];
    handler = (c) => c.onEnded((r) => ended.push(r));
    const u = uac();
    await u.invite(sdp);
    await until(() => calls.length === 1, 'the handler saw the call');
    await u.cancel();
    const terminated = await u.final();
    await u.ackNon2xx(terminated);
    // EndReason has 'cancel' and request() calls call.end('cancel') after the 487,
    // so a cancelled call should say so (not 'rejected', which is the handler refusing it).
    expect(ended).toEqual(['cancel']);
    expect(calls[0]!.endReason).toBe('cancel');
  });

  it('answers OPTIONS 200 with Allow, an unknown method 405 with Allow', async () => {
    const u = uac();
    await peer.send(request('OPTIONS', 'z9hG4bKopt1', 'a1', 'opt-1@test', 7), EP_ADDR, EP_PORT);
    const ok = await peer.response(200, 'OPTIONS', 'opt-1@test');
    expect(ok.headers.get('Allow')).toBe('INVITE, ACK, BYE, CANCEL, OPTIONS');
    expect(ok.headers.get('CSeq')).toBe('7 OPTIONS');
    expect(ok.headers.get('Via')).toBe(`SIP/2.0/UDP ${PEER_ADDR}:${peer.port};branch=z9hG4bKopt1`);
    await peer.send(request('SUBSCRIBE', 'z9hG4bKsub1', 'a2', u.callId, 1, [['Event', 'presence']]), EP_ADDR, EP_PORT);
    const no = await peer.response(405, 'SUBSCRIBE', u.callId);
    expect(no.headers.get('Allow')).toBe('INVITE, ACK, BYE, CANCEL, OPTIONS');
    expect(calls).toHaveLength(0);
  });

  it('answers a malformed request that names a Via 400; drops garbage and keeps serving', async () => {
    const noMaxForwards = request('OPTIONS', 'z9hG4bKbad1', 'b1', 'bad-1@test', 1);
    noMaxForwards.headers.remove('Max-Forwards');
    await peer.send(noMaxForwards, EP_ADDR, EP_PORT);
    const bad = await peer.response(400, 'OPTIONS', 'bad-1@test');
    expect(bad.reason).toBe('Bad Request');
    expect(bad.headers.get('Via')).toContain('branch=z9hG4bKbad1');
    expect(logLines.some((l) => l.includes('WARNING malformed SIP') && l.includes('Max-Forwards'))).toBe(true);

    // garbage: binary noise, a request line with no headers, a header section that never ends
    await peer.send(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80, 0x00, 0x12, 0x34]), EP_ADDR, EP_PORT);
    await peer.send('INVITE sip:vm@ims.test SIP/2.0\r\n\r\n', EP_ADDR, EP_PORT);
    await peer.send('OPTIONS sip:vm@ims.test SIP/2.0\r\nVia: SIP/2.0/UDP x', EP_ADDR, EP_PORT);
    await peer.send('\r\n\r\n', EP_ADDR, EP_PORT); // keep-alive
    await peer.send(request('OPTIONS', 'z9hG4bKok2', 'b2', 'after-garbage@test', 1), EP_ADDR, EP_PORT);
    await peer.response(200, 'OPTIONS', 'after-garbage@test');
    // nothing but the 400 and the 200 came back
    expect(peer.log.map((r) => (r.msg.kind === 'response' ? r.msg.status : r.msg.method))).toEqual([400, 200]);
    expect(calls).toHaveLength(0);
  });

  it('answers 500 with the reason when the handler throws (sync or async)', async () => {
    handler = () => {
      throw new Error('boom in handler');
    };
    const u = uac();
    await u.invite(sdp);
    const r = await u.final();
    expect(r.status).toBe(500);
    expect(r.reason).toBe('Server Internal Error (boom in handler)');
    await u.ackNon2xx(r);

    handler = async () => {
      await sleep(5);
      throw new Error('x'.repeat(100));
    };
    const v = uac();
    await v.invite(sdp);
    const r2 = await v.final();
    expect(r2.status).toBe(500);
    expect(r2.reason).toBe(`Server Internal Error (${'x'.repeat(60)})`);
    await v.ackNon2xx(r2);
    expect(logLines.filter((l) => l.includes('INVITE handler failed'))).toHaveLength(2);
  });

  it('answers a re-INVITE in the dialog with the same answer', async () => {
    handler = (c) => c.answer(answerSdp);
    const u = uac();
    await u.invite(sdp);
    const ok = await u.final();
    await u.ack2xx(ok);
    await until(() => calls[0]?.state === 'confirmed', 'confirmed');
    const reinvite = createRequest({
      method: 'INVITE', uri: ep.contact.slice(1, -1), via: { transport: 'UDP', host: PEER_ADDR, port: peer.port, branch: 'z9hG4bKreinv1' },
      from: `<sip:alice@ims.test>;tag=${u.fromTag}`, to: `<sip:vm@ims.test>;tag=${u.toTag}`, callId: u.callId, cseq: 2, contact: `<sip:ue@${PEER_ADDR}:${peer.port}>`, body: sdp,
    });
    await peer.send(reinvite, EP_ADDR, EP_PORT);
    const again = await peer.response(200, 'INVITE', u.callId);
    expect(again.headers.get('CSeq')).toBe('2 INVITE');
    expect(tagOf(toOf(again))).toBe(calls[0]!.toTag);
    expect(again.body.toString()).toBe(answerSdp);
    expect(calls).toHaveLength(1);
  });

  it('bye(call) after the ACK sends an in-dialog BYE to the top Record-Route', async () => {
    const proxy = await SipPeer.open(PROXY_ADDR);
    try {
      handler = (c) => c.answer(answerSdp);
      // The UE's Contact is this peer; the route set's first hop is the "proxy": the BYE must go there.
      const u = uac({ headers: [['Record-Route', `<sip:${PROXY_ADDR}:${proxy.port};lr>`], ['Record-Route', '<sip:scscf.ims.test:6060;lr>']] });
      await u.invite(sdp);
      const ok = await u.final();
      await u.ack2xx(ok);
      await until(() => calls[0]?.state === 'confirmed', 'confirmed');
      const call = calls[0]!;
      const done = ep.bye(call);
      const got = await proxy.nextReceived(isRequest('BYE'), 'BYE at the proxy');
      const bye = got.msg as SipRequest;
      expect(got.from).toEqual({ address: EP_ADDR, port: EP_PORT });
      expect(bye.uri).toBe(`sip:ue@${PEER_ADDR}:${peer.port}`); // loose routing: Request-URI = remote target
      expect(bye.headers.getAll('Route')).toEqual([`<sip:${PROXY_ADDR}:${proxy.port};lr>`, '<sip:scscf.ims.test:6060;lr>']);
      expect(bye.headers.get('Call-ID')).toBe(u.callId);
      expect(tagOf(fromOf(bye))).toBe(call.toTag);
      expect(parseNameAddr(bye.headers.get('From')!)?.uri).toBe('sip:vm@ims.test');
      expect(tagOf(toOf(bye))).toBe(u.fromTag);
      expect(parseNameAddr(bye.headers.get('To')!)?.uri).toBe('sip:alice@ims.test');
      expect(cseqOf(bye).method).toBe('BYE');
      expect(bye.headers.get('Via')).toMatch(new RegExp(`^SIP/2\\.0/UDP ${EP_ADDR.replace(/\./g, '\\.')}:${EP_PORT};`));
      expect(call.state).toBe('ended');
      expect(call.endReason).toBe('bye-sent');
      expect(peer.all(isRequest('BYE'))).toHaveLength(0);
      // answer it at the proxy: bye() resolves
      await proxy.reply(bye, 200, got.from);
      await done;
      // a second bye() on the ended call does nothing
      await ep.bye(call);
      await sleep(50);
      expect(proxy.all(isRequest('BYE'))).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('bye(call) without a route set goes to the Contact of the INVITE', async () => {
    handler = (c) => c.answer(answerSdp);
    const u = uac();
    await u.invite(sdp);
    const ok = await u.final();
    await u.ack2xx(ok);
    await until(() => calls[0]?.state === 'confirmed', 'confirmed');
    const done = ep.bye(calls[0]!);
    const bye = await peer.request('BYE', u.callId);
    expect(bye.headers.has('Route')).toBe(false);
    expect(bye.uri).toBe(`sip:ue@${PEER_ADDR}:${peer.port}`);
    await peer.reply(bye, 200, { address: EP_ADDR, port: EP_PORT });
    await done;
  });

  it('bye(call) reports a dialog it cannot route as a rejected promise, not a synchronous throw', async () => {
    // An INVITE without Contact (RFC 3261 requires one, but the endpoint accepts it).
    handler = (c) => c.answer(answerSdp);
    const u = uac({ contact: null });
    await u.invite(sdp);
    const ok = await u.final();
    await u.ack2xx(ok);
    await until(() => calls[0]?.state === 'confirmed', 'confirmed');
    // Callers use `void ep.bye(call).catch(...)` (the voicemail's hang-up timer): a throw escapes them.
    let result: Promise<void> | undefined;
    expect(() => {
      result = ep.bye(calls[0]!);
    }).not.toThrow();
    await expect(result).rejects.toThrow();
  });

  it('bye(call) does nothing for a call that is not confirmed', async () => {
    handler = (c) => c.answer(answerSdp);
    const u = uac();
    await u.invite(sdp);
    await u.final();
    await ep.bye(calls[0]!); // answered, no ACK yet
    await sleep(50);
    expect(peer.all(isRequest('BYE'))).toHaveLength(0);
    expect(calls[0]!.state).toBe('answered');
  });

  it('close() ends live calls with reason shutdown', async () => {
    const ended: EndReason[] = [];
    handler = (c) => {
      c.onEnded((r) => ended.push(r));
      c.answer(answerSdp);
    };
    const u = uac();
    await u.invite(sdp);
    await u.final();
    await ep.close();
    expect(ended).toEqual(['shutdown']);
  });

  it('refuses to start on a taken port with SipPortInUseError', async () => {
    const other = new SipEndpoint(EP_ADDR, EP_PORT, 'vm', new SipLogger('test', 'other', () => undefined), () => undefined);
    await expect(other.start()).rejects.toThrow(/SIP port 127\.0\.11\.2:25070\/udp is in use/);
  });
});

describe('readOffer / buildAnswer', () => {
  const mikey = 'mikey AQAFgM0XOz8AAAAA+Aw0fzGZ8W3DCm1p4K/Z8ZW/bq0=';
  const savp = [
    'v=0',
    'o=alice 2890844526 2890844526 IN IP4 10.0.0.1',
    's=-',
    'c=IN IP4 10.0.0.1',
    't=0 0',
    'm=audio 49170 RTP/SAVP 0',
    'a=rtpmap:0 PCMU/8000',
    'a=sendonly',
    'a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32',
    'a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj UNENCRYPTED_SRTP',
    `a=key-mgmt:${mikey}`,
    'a=3ge2ae:requested',
    '',
  ].join('\r\n');

  it('reads an RTP/SAVP offer with key-mgmt and crypto', () => {
    const o = readOffer(savp);
    expect(o).toEqual({
      address: '10.0.0.1',
      port: 49170,
      profile: 'RTP/SAVP',
      crypto: ['1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32', '2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj UNENCRYPTED_SRTP'],
      keyMgmt: [mikey],
      direction: 'sendonly',
      attributes: { '3ge2ae': 'requested' },
    });
  });

  it('prefers the media-level c= and defaults the direction to sendrecv', () => {
    const o = readOffer(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96', 'm=audio 6000 RTP/AVP 0', 'c=IN IP4 10.0.0.9', ''].join('\r\n'));
    expect(o).toMatchObject({ address: '10.0.0.9', port: 6000, profile: 'RTP/AVP', crypto: [], keyMgmt: [], direction: 'sendrecv' });
  });

  const err = (sdp: string): SdpError => {
    try {
      readOffer(sdp);
    } catch (e) {
      expect(e).toBeInstanceOf(SdpError);
      return e as SdpError;
    }
    throw new Error('no SdpError');
  };

  it('says what is missing: audio, c=, a disabled stream', () => {
    expect(err(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=video 5000 RTP/AVP 96', ''].join('\r\n')).message).toBe('the offer has no m=audio stream');
    expect(err('').message).toBe('the offer has no m=audio stream');
    expect(err(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 't=0 0', 'm=audio 5000 RTP/AVP 0', ''].join('\r\n')).message).toBe('the offer has no c= address for its audio');
    expect(err(['v=0', 'o=- 1 1 IN IP4 10.0.0.1', 's=-', 'c=IN IP4 10.0.0.1', 't=0 0', 'm=audio 0 RTP/AVP 0', ''].join('\r\n')).message).toBe('the audio stream is disabled (port 0)');
  });

  it('buildAnswer round-trips through readOffer', () => {
    const spec = {
      address: '127.0.11.7',
      port: 30_002,
      profile: 'RTP/SAVP',
      direction: 'recvonly' as const,
      crypto: ['1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR'],
      keyMgmt: [mikey],
      attributes: ['3ge2ae:supported'],
    };
    const a = buildAnswer(spec);
    expect(a.endsWith('\r\n')).toBe(true);
    expect(a).toContain('m=audio 30002 RTP/SAVP 0\r\n');
    expect(readOffer(a)).toEqual({ address: spec.address, port: spec.port, profile: spec.profile, crypto: spec.crypto, keyMgmt: spec.keyMgmt, direction: 'recvonly', attributes: { '3ge2ae': 'supported' } });
    const plain = buildAnswer({ address: '127.0.11.7', port: 30_004, profile: 'RTP/AVP', direction: 'sendonly' });
    expect(plain).not.toMatch(/a=crypto|a=key-mgmt/);
    expect(readOffer(plain)).toEqual({ address: '127.0.11.7', port: 30_004, profile: 'RTP/AVP', crypto: [], keyMgmt: [], direction: 'sendonly', attributes: {} });
  });
});

describe('ControlServer', () => {
  const PORT = 28_080;
  let server: ControlServer;
  beforeEach(async () => {
    server = new ControlServer(CONTROL_ADDR, PORT, {
      'GET /status': () => ({ calls: 2 }),
      'GET /secret': () => {
        throw new HttpError(403, 'not for you');
      },
      'GET /broken': () => {
        throw new Error('a bug');
      },
      'POST /echo': async (_req, body) => ({ got: body }),
    });
    await server.start();
  });
  afterEach(() => server.close());

  /** One request on a fresh connection (no keep-alive pool shared across server restarts). */
  const get = (p: string, init: { method?: string; body?: string } = {}) =>
    new Promise<{ status: number; type: string | undefined; body: Record<string, unknown> }>((resolve, reject) => {
      const req = httpRequest({ host: CONTROL_ADDR, port: PORT, path: p, method: init.method ?? 'GET', agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
          } catch (e) {
            reject(e as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(init.body);
    });

  it('GET /health is 200 {ok:true}', async () => {
    expect(await get('/health')).toEqual({ status: 200, type: 'application/json', body: { ok: true } });
    expect(await get('/health?x=1')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('serves its routes', async () => {
    expect(await get('/status')).toMatchObject({ status: 200, body: { calls: 2 } });
    expect(await get('/echo', { method: 'POST', body: JSON.stringify({ a: [1, 2] }) })).toMatchObject({ status: 200, body: { got: { a: [1, 2] } } });
    expect(await get('/echo', { method: 'POST', body: '{not json' })).toEqual({ status: 400, type: 'application/json', body: { error: 'the request body is not JSON' } });
  });

  it('answers an unknown route 404 listing the routes', async () => {
    const r = await get('/nope');
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ error: 'no route GET /nope; routes: GET /health, GET /status, GET /secret, GET /broken, POST /echo' });
    expect((await get('/status', { method: 'DELETE' })).status).toBe(404);
  });

  it('answers HttpError with its status and other errors 500, as {error}', async () => {
    expect(await get('/secret')).toEqual({ status: 403, type: 'application/json', body: { error: 'not for you' } });
    expect(await get('/broken')).toEqual({ status: 500, type: 'application/json', body: { error: 'a bug' } });
  });

  it('refuses to start on a taken port', async () => {
    const other = new ControlServer(CONTROL_ADDR, PORT, {});
    await expect(other.start()).rejects.toThrow(/control port 127\.0\.11\.5:28080 is in use/);
  });
});

describe('bindRtp', () => {
  const open: Socket[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  const hold = async (port: number) => {
    const s = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, RTP_ADDR, () => resolve());
    });
    open.push(s);
    return s;
  };

  it('binds the first even port of the range', async () => {
    const a = await bindRtp(RTP_ADDR, 30_001, 30_010);
    open.push(a.socket);
    expect(a.port).toBe(30_002);
    expect(a.socket.address()).toMatchObject({ address: RTP_ADDR, port: 30_002 });
    const b = await bindRtp(RTP_ADDR, 30_001, 30_010);
    open.push(b.socket);
    expect(b.port).toBe(30_004);
  });

  it('skips a taken port, and receives on the port it bound', async () => {
    await hold(30_020);
    await hold(30_022);
    const a = await bindRtp(RTP_ADDR, 30_020, 30_030);
    open.push(a.socket);
    expect(a.port).toBe(30_024);
    const sink = await RtpSink.open(RTP_ADDR);
    try {
      const got = new Promise<Buffer>((r) => a.socket.once('message', (d) => r(d)));
      sink.socket.send(Buffer.from([0x80, 0, 0, 1]), a.port, RTP_ADDR);
      expect([...(await got)]).toEqual([0x80, 0, 0, 1]);
    } finally {
      await sink.close();
    }
  });

  it('throws when the range is full', async () => {
    await hold(30_040);
    await hold(30_042);
    await expect(bindRtp(RTP_ADDR, 30_040, 30_043)).rejects.toThrow('no free RTP port on 127.0.11.6 in 30040-30043: too many calls at once');
  });
});
