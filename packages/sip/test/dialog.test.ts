import { describe, expect, it } from 'vitest';
import {
  acceptRemoteCseq, createAckFor2xx, createInDialogRequest, createResponse, createUacDialog, createUasDialog, dialogId, MAX_REASON_PHRASE,
  dialogIdOfIncomingRequest, dialogIdOfResponse, DialogError, resolveDialogRoute, cseqOf, parseMessage, serializeMessage,
} from '../src/index.ts';
import { invite } from './helpers.ts';

const via = { transport: 'UDP', host: '192.0.2.1', port: 5060, rport: true };

function okWithRecordRoute() {
  const req = invite();
  req.headers.append('Record-Route', '<sip:p1.example.com;lr>');
  req.headers.append('Record-Route', '<sip:p2.example.com;lr>');
  const res = createResponse(req, 200, {
    toTag: 'bobtag',
    headers: [['Record-Route', '<sip:p1.example.com;lr>, <sip:p2.example.com;lr>'], ['Contact', '<sip:bob@192.0.2.2:5070;transport=udp>']],
  });
  return { req, res };
}

describe('dialogs (sec. 12)', () => {
  it('UAC: route set is the reversed Record-Route, target is the Contact, ACK keeps the INVITE CSeq', () => {
    const { req, res } = okWithRecordRoute();
    const d = createUacDialog(req, res);
    expect(d.routeSet).toEqual(['<sip:p2.example.com;lr>', '<sip:p1.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:bob@192.0.2.2:5070;transport=udp');
    expect(dialogId(d)).toBe(dialogIdOfResponse(res));
    const ack = createAckFor2xx(d, 1, { via });
    expect(ack.uri).toBe(d.remoteTarget);
    expect(ack.headers.getAll('Route')).toEqual(d.routeSet);
    expect(ack.headers.get('CSeq')).toBe('1 ACK');
    expect(ack.headers.get('To')).toContain('tag=bobtag');
    const bye = createInDialogRequest(d, 'BYE', { via });
    expect(cseqOf(bye)).toEqual({ seq: 2, method: 'BYE' });
    expect(bye.headers.get('Via')).not.toBe(ack.headers.get('Via'));
    expect(parseMessage(serializeMessage(bye)).ok).toBe(true);
    expect(() => createInDialogRequest(d, 'ACK', { via })).toThrow(DialogError);
  });

  it('UAS: route set in order, remote CSeq checked, ids mirror the UAC', () => {
    const { req } = okWithRecordRoute();
    const d = createUasDialog(req, 'bobtag');
    expect(d.routeSet).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>']);
    expect(d.remoteTarget).toBe('sip:alice@192.0.2.1:5060');
    const bye = invite(undefined, 'BYE');
    bye.headers.set('To', '<sip:bob@example.com>;tag=bobtag');
    bye.headers.set('CSeq', '2 BYE');
    expect(dialogIdOfIncomingRequest(bye)).toBe(dialogId(d));
    expect(acceptRemoteCseq(d, bye)).toBe(true);
    bye.headers.set('CSeq', '1 BYE');
    expect(acceptRemoteCseq(d, bye)).toBe(false);
  });

  it('strict routing puts the first route in the Request-URI and the target last (sec. 12.2.1.1)', () => {
    const r = resolveDialogRoute(['<sip:strict.example.com;method=INVITE>', '<sip:p2.example.com;lr>'], 'sip:bob@h');
    expect(r.requestUri).toBe('sip:strict.example.com');
    expect(r.routes).toEqual(['<sip:p2.example.com;lr>', '<sip:bob@h>']);
    expect(resolveDialogRoute([], 'sip:bob@h')).toEqual({ requestUri: 'sip:bob@h', routes: [] });
  });

  it('refuses to build a dialog from a response without Contact', () => {
    const req = invite();
    expect(() => createUacDialog(req, createResponse(req, 200))).toThrow(/Contact/);
  });
});

describe('Reason-Phrase of a response we build (sec. 25.1)', () => {
  it('turns control characters of a quoted refusal into ? and cuts an overlong one: the status line stays one line and parses', () => {
    const req = invite();
    const res = createResponse(req, 488, { reason: 'Not Acceptable Here (IDRi si\r\n:alice\u0000 is not the caller)\tok' });
    expect(res.reason).toBe('Not Acceptable Here (IDRi si??:alice? is not the caller)\tok');
    const back = parseMessage(serializeMessage(res));
    expect(back.ok && back.message.kind === 'response' && back.message.reason).toBe(res.reason);
    expect(createResponse(req, 488, { reason: 'x'.repeat(1000) }).reason).toHaveLength(MAX_REASON_PHRASE);
    expect(createResponse(req, 486).reason).toBe('Busy Here');
  });
});
