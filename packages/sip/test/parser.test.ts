import { describe, expect, it } from 'vitest';
import {
  callIdOf, cseqOf, fromOf, nameAddrsOf, parseMessage, serializeMessage, tagOf, toOf, topViaOf, viasOf,
  parseSipUri, formatSipUri, parseNameAddr, formatNameAddr, splitHeaderValues, parseVia, type SipMessage,
} from '../src/index.ts';
import { BASIC_INVITE, TORTURE_INVALID, TORTURE_VALID } from './fixtures.ts';

function ok(text: string): SipMessage {
  const r = parseMessage(text);
  if (!r.ok) throw new Error(`expected to parse: ${r.error.message}`);
  return r.message;
}

describe('parser: valid torture cases', () => {
  for (const c of TORTURE_VALID) {
    it(`parses and round-trips: ${c.name}`, () => {
      const m = ok(c.text);
      const again = ok(serializeMessage(m).toString('utf8'));
      expect(again.kind).toBe(m.kind);
      expect(callIdOf(again)).toBe(callIdOf(m));
      expect(cseqOf(again)).toEqual(cseqOf(m));
      expect(viasOf(again).length).toBe(viasOf(m).length);
      expect(again.body.equals(m.body)).toBe(true);
      expect(serializeMessage(again).equals(serializeMessage(m))).toBe(true);
    });
  }

  it('reads the basic INVITE fields', () => {
    const m = ok(BASIC_INVITE);
    expect(m.kind).toBe('request');
    if (m.kind !== 'request') return;
    expect(m.method).toBe('INVITE');
    expect(m.uri).toBe('sip:bob@biloxi.example.com');
    expect(fromOf(m).displayName).toBe('Alice A.');
    expect(tagOf(fromOf(m))).toBe('1928301774');
    expect(tagOf(toOf(m))).toBeUndefined();
    expect(topViaOf(m).params.has('rport')).toBe(true);
    expect(m.body.toString()).toBe('v=0\n');
  });

  it('expands compact forms', () => {
    const m = ok(TORTURE_VALID[1]!.text);
    expect(m.headers.get('Call-ID')).toBe('c1@host1');
    expect(m.headers.get('i')).toBe('c1@host1');
    expect(m.headers.getAll('Supported')).toEqual(['path', 'outbound']);
    expect(topViaOf(m).transport).toBe('TCP');
    const text = serializeMessage(m).toString();
    expect(text).toContain('Call-ID: c1@host1');
    expect(text).toContain('Contact: <sip:alice@host1.example.com>');
  });

  it('unfolds folded headers and tolerates whitespace around separators (RFC 4475 3.1.1.1)', () => {
    const m = ok(TORTURE_VALID[2]!.text);
    expect(m.headers.get('NewFangledHeader')).toBe('newfangled value continued newfangled value');
    expect(cseqOf(m)).toEqual({ seq: 9, method: 'INVITE' });
    const vias = viasOf(m);
    expect(vias.map((v) => v.transport)).toEqual(['UDP', 'TCP', 'UDP']);
    expect(vias[1]!.params.get('branch')).toBe('z9hG4bK9ikj8');
    expect(vias[2]!.params.get('branch')).toBe('z9hG4bK30239');
    expect(fromOf(m).displayName).toBe('J Rosenberg \\"');
    expect(tagOf(toOf(m))).toBe('1918181833n');
    const contact = nameAddrsOf(m, 'Contact')[0]!;
    expect(contact.displayName).toBe('Quoted string ""');
    expect(contact.params.get('q')).toBe('0.33');
  });

  it('splits multi-value Via, Record-Route and Contact, keeping order', () => {
    const m = ok(TORTURE_VALID[3]!.text);
    expect(viasOf(m).map((v) => v.host)).toEqual(['p1.example.com', 'p2.example.com', '[2001:db8::9]']);
    expect(viasOf(m)[2]!.params.get('rport')).toBe('5066');
    expect(m.headers.getAll('Record-Route')).toEqual(['<sip:p1.example.com;lr>', '<sip:p2.example.com;lr>', '<sip:p3.example.com;lr;transport=tcp>']);
    const contacts = nameAddrsOf(m, 'Contact');
    expect(contacts.map((c) => c.displayName)).toEqual([undefined, 'Bob, mobile']);
    expect(contacts[0]!.params.get('expires')).toBe('60');
  });

  it('cuts a datagram body to Content-Length (sec. 18.3)', () => {
    const m = ok(BASIC_INVITE + 'EXTRA');
    expect(m.body.toString()).toBe('v=0\n');
  });

  it('takes the rest of the datagram as body when Content-Length is absent', () => {
    const m = ok(BASIC_INVITE.replace('Content-Length: 4\r\n', ''));
    expect(m.body.toString()).toBe('v=0\n');
  });
});

describe('parser: invalid torture cases return an error value', () => {
  for (const c of TORTURE_INVALID) {
    it(c.name, () => {
      const r = parseMessage(c.text);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.error.message).toMatch(c.match);
      if (c.status) expect(r.error.status).toBe(c.status);
    });
  }

  it('keeps the partial request so a 400 can be sent', () => {
    const r = parseMessage(BASIC_INVITE.replace('CSeq: 314159 INVITE', 'CSeq: 314159 ACK'));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.partial?.kind).toBe('request');
  });

  it('rejects oversize messages', () => {
    const r = parseMessage(BASIC_INVITE + 'x'.repeat(300_000));
    expect(r.ok).toBe(false);
  });
});

describe('URI, name-addr and Via syntax', () => {
  it('parses SIP URIs with user, password, port, params and headers', () => {
    const u = parseSipUri('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi')!;
    expect(u).toMatchObject({ scheme: 'sips', user: 'alice', password: 'secret', host: '[2001:db8::1]', port: 5061, headers: 'subject=hi' });
    expect(u.params.get('transport')).toBe('tcp');
    expect(u.params.get('lr')).toBeNull();
    expect(formatSipUri(u)).toBe('sips:alice:secret@[2001:db8::1]:5061;transport=tcp;lr?subject=hi');
    expect(parseSipUri('sip:host:99999')).toBeNull();
    expect(parseSipUri('http://x')).toBeNull();
    expect(parseSipUri('sip:')).toBeNull();
  });

  it('parses name-addr and addr-spec forms', () => {
    expect(parseNameAddr('sip:a@b;tag=1')).toMatchObject({ uri: 'sip:a@b' });
    expect(parseNameAddr('sip:a@b;tag=1')!.params.get('tag')).toBe('1');
    expect(parseNameAddr('Bob <sip:b@c;transport=tcp>;tag=9')).toMatchObject({ displayName: 'Bob', uri: 'sip:b@c;transport=tcp' });
    expect(parseNameAddr('<sip:b@c')).toBeNull();
    expect(parseNameAddr('"x" sip:b@c')).toBeNull();
    expect(formatNameAddr(parseNameAddr('"A \\"q\\"" <sip:a@b>;tag=1')!)).toBe('"A \\"q\\"" <sip:a@b>;tag=1');
  });

  it('splits header values only on top-level commas', () => {
    expect(splitHeaderValues('<sip:a@b;x=1,2>, "c, d" <sip:e@f>,g')).toEqual(['<sip:a@b;x=1,2>', '"c, d" <sip:e@f>', 'g']);
  });

  it('parses Via with IPv6 sent-by and valueless params', () => {
    const v = parseVia('SIP/2.0/TLS [::1]:5061;branch=z9hG4bKa;rport;alias')!;
    expect(v).toMatchObject({ transport: 'TLS', host: '[::1]', port: 5061 });
    expect(v.params.get('rport')).toBeNull();
    expect(parseVia('SIP/2.0/UDP host;branch=')).toBeNull();
  });
});
