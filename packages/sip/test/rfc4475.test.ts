/**
 * RFC 4475 (SIP torture test messages), the parser's half: every message of
 * the RFC's archive (./rfc4475/, index.ts says what each must do and why),
 * parsed from its exact bytes. A well-formed one parses and yields what the
 * RFC says a parser must extract; a malformed one is an error value with the
 * status the RFC names, never a throw. What a UA answers on the wire is
 * services/ue/test/rfc4475-over-the-wire.test.ts.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  callIdOf, cseqOf, fromOf, nameAddrsOf, parseMessage, parseSipUri, toOf, topViaOf, viasOf, type SipMessage,
} from '../src/index.ts';
import { RFC4475, rfc4475Bytes } from './rfc4475/index.ts';

/** `%HH` unescaped to the octets it stands for (RFC 3261 sec. 19.1.2), read as latin1 so a NUL stays one char. */
const unescape = (s: string) => Buffer.from(s.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('latin1');

function parsed(name: string): SipMessage {
  const r = parseMessage(rfc4475Bytes(name));
  if (!r.ok) throw new Error(`${name} did not parse: ${r.error.message}`);
  return r.message;
}
const req = (name: string) => {
  const m = parsed(name);
  if (m.kind !== 'request') throw new Error(`${name} is not a request`);
  return m;
};

describe('RFC 4475: the corpus', () => {
  it('holds the 49 messages of sections 3.1 to 3.4 and the archive\'s extra file, each once', () => {
    expect(RFC4475).toHaveLength(50);
    expect(RFC4475.filter((m) => m.section !== null)).toHaveLength(49);
    expect(new Set(RFC4475.map((m) => m.name)).size).toBe(50);
    const files = readdirSync(new URL('./rfc4475/', import.meta.url)).filter((f) => f.endsWith('.sip'));
    expect(files.sort()).toEqual(RFC4475.map((m) => `${m.name}.sip`).sort());
  });

  it('keeps the CRLF line ends of the RFC (no file was normalised to LF)', () => {
    for (const m of RFC4475) {
      const b = rfc4475Bytes(m.name).toString('latin1');
      // mpart01's binary part has bare CR/LF octets of its own; its header section does not.
      const head = b.slice(0, b.indexOf('\r\n\r\n') >= 0 ? b.indexOf('\r\n\r\n') : b.length);
      expect(head.replace(/\r\n/g, ''), m.name).not.toMatch(/[\r\n]/);
    }
  });
});

describe('RFC 4475: parseMessage does what the RFC says with every message', () => {
  for (const m of RFC4475) {
    it(`${m.section ?? 'archive'} ${m.name}: ${m.parser.accept ? 'parses' : `is refused ${m.parser.status}`}`, () => {
      const r = parseMessage(rfc4475Bytes(m.name));
      if (m.parser.accept) {
        expect(r.ok ? 'parsed' : r.error.message, m.rule).toBe('parsed');
        return;
      }
      expect(r.ok, m.rule).toBe(false);
      if (r.ok) return;
      expect(r.error.status, r.error.message).toBe(m.parser.status);
      expect(r.partial !== undefined, `partial: ${r.error.message}`).toBe(m.parser.partial);
    });
  }
});

describe('RFC 4475 3.1.1: what a parser must extract from the valid messages', () => {
  it('wsinv: folding, LWS, compact and long forms, leading zeros, an empty Subject', () => {
    const m = req('wsinv');
    expect(cseqOf(m)).toEqual({ seq: 9, method: 'INVITE' });
    expect(Number(m.headers.get('Max-Forwards'))).toBe(68);
    expect(viasOf(m).map((v) => `${v.transport} ${v.host} ${v.params.get('branch')}`)).toEqual([
      'UDP 192.0.2.2 390skdjuw', 'TCP spindle.example.com z9hG4bK9ikj8', 'UDP 192.168.255.111 z9hG4bK30239',
    ]);
    expect(m.headers.get('Subject')).toBe('');
    expect(m.headers.get('UnknownHeaderWithUnusualValue')).toBe(';;,,;;,;');
    expect(fromOf(m).displayName).toBe('J Rosenberg \\"');
    expect(nameAddrsOf(m, 'Contact')[0]!.params.get('q')).toBe('0.33');
    expect(m.body.length).toBe(150);
  });

  it('intmeth: token characters in method, URI, branch and tag; quoted-pair BEL, NUL and DEL in a display name', () => {
    const m = req('intmeth');
    expect(m.method).toBe("!interesting-Method0123456789_*+`.%indeed'~");
    expect(toOf(m).displayName).toBe('BEL:\x07 NUL:\x00 DEL:\x7f');
    const uri = parseSipUri(m.uri)!;
    expect(uri.user).toBe("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
    expect(uri.password).toBe("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
    expect(fromOf(m).displayName).toBe("token1~` token2'+_ token3*%!.-");
    expect(fromOf(m).params.get("fromparam''~+*_!.-%")).toBe('"работающий"');
    expect(fromOf(m).params.get('tag')).toBe("_token~1'+`*%!-.");
    expect(callIdOf(m)).toBe("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{");
    expect(topViaOf(m).params.get('branch')).toBe("z9hG4bK-.!%66*_+`'~");
    expect(m.headers.get("extensionHeader-!.%*+_`'~")).toBe('\ufeff大停電');
  });

  it('esc01: % HEX HEX is an escape in the URIs, unescaped once only', () => {
    const m = req('esc01');
    expect(unescape(parseSipUri(m.uri)!.user!)).toBe('sips:user@example.com');
    expect(unescape(parseSipUri(toOf(m).uri)!.user!)).toBe('user');
    expect(unescape(parseSipUri(fromOf(m).uri)!.user!)).toBe('I have spaces');
    const contact = parseSipUri(nameAddrsOf(m, 'Contact')[0]!.uri)!;
    expect(unescape(contact.user!)).toBe('caller');
    expect([...contact.params.keys()].map(unescape)).toEqual(['lr', 'name']);
    // "value%41" is NOT equivalent to "valueA" (RFC 3986: never unescaped recursively)
    expect(unescape(contact.params.get('n%61me')!)).toBe('value%41');
  });

  it('escnull: an escaped NUL does not shorten a user part', () => {
    const m = req('escnull');
    expect(unescape(parseSipUri(toOf(m).uri)!.user!)).toBe('null-\x00-null');
    expect(nameAddrsOf(m, 'Contact').map((c) => unescape(parseSipUri(c.uri)!.user!))).toEqual(['\x00', '\x00\x00']);
  });

  it('esc02: % is no escape in a method, a display name or a header name', () => {
    const m = req('esc02');
    expect(m.method).toBe('RE%47IST%45R');
    expect(toOf(m).displayName).toBe('%Z%45');
    expect(nameAddrsOf(m, 'Contact').map((c) => c.uri)).toEqual(['sip:alias1@host1.example.com', 'sip:alias3@host3.example.com']);
    expect(m.headers.get('C%6Fntact')).toBe('<sip:alias2@host2.example.com>');
  });

  it('lwsdisp: a display name with no LWS before <', () => {
    expect(fromOf(req('lwsdisp')).displayName).toBe('caller');
  });

  it('longreq: long values kept whole, 34 Via values in every spelling of Via', () => {
    const m = req('longreq');
    expect(viasOf(m)).toHaveLength(34);
    expect(toOf(m).displayName).toBe(`I have a user name of ${'extreme'.repeat(10)} proportion`);
    expect(parseSipUri(toOf(m).uri)!.port).toBe(6000);
    expect(callIdOf(m)).toBe(`longreq.one${'really'.repeat(20)}longcallid`);
    expect(viasOf(m)[33]!.params.get('branch')).toBe(`very${'long'.repeat(50)}branchvalue`);
  });

  it('dblreq: the REGISTER, and not the INVITE-like octets after it', () => {
    const m = req('dblreq');
    expect(m.method).toBe('REGISTER');
    expect(callIdOf(m)).toBe('dblreq.0ha0isndaksdj99sdfafnl3lk233412');
    expect(m.body.length).toBe(0);
  });

  it('semiuri: the user part is "user;par=u@example.net"', () => {
    const uri = parseSipUri(req('semiuri').uri)!;
    expect(unescape(uri.user!)).toBe('user;par=u@example.net');
    expect(uri.host).toBe('example.com');
    expect(uri.params.size).toBe(0);
  });

  it('transports: Via values of every transport, known or not', () => {
    expect(viasOf(req('transports')).map((v) => v.transport)).toEqual(['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
  });

  it('mpart01: the binary body part, NUL octets included, framed intact', () => {
    const m = req('mpart01');
    const raw = rfc4475Bytes('mpart01');
    expect(m.body.length).toBe(553);
    expect(m.body.equals(raw.subarray(raw.length - 553))).toBe(true);
    expect(m.body.includes(0)).toBe(true);
    expect(m.headers.get('Content-Type')).toBe('multipart/mixed;boundary=7a9cbec02ceef655');
  });

  it('unreason and noreason: any UTF-8 reason phrase, or none', () => {
    const u = parsed('unreason');
    expect(u.kind === 'response' && u.reason).toBe('= 2**3 * 5**2 но сто девяносто девять - простое');
    const n = parsed('noreason');
    expect(n.kind === 'response' && [n.status, n.reason]).toEqual([100, '']);
  });
});

describe('RFC 4475 3.2 to 3.4: well formed, for the layers above the parser to judge', () => {
  it('badbranch: a branch that is only the magic cookie', () => {
    expect(topViaOf(req('badbranch')).params.get('branch')).toBe('z9hG4bK');
  });

  it('unkscm, novelsc: Request-URIs of an unknown and an atypical scheme', () => {
    expect(req('unkscm').uri).toBe('nobodyKnowsThisScheme:totallyopaquecontent');
    expect(req('novelsc').uri).toBe('soap.beep://192.0.2.103:3002');
  });

  it('unksm2: non-SIP URIs in To, From and Contact', () => {
    const m = req('unksm2');
    expect([toOf(m).uri, fromOf(m).uri, nameAddrsOf(m, 'Contact')[0]!.uri]).toEqual(['isbn:2983792873', 'http://www.example.com', 'name:John_Smith']);
  });

  it('cparam01 / cparam02: a contact-param outside <>, a url-parameter inside', () => {
    const c1 = nameAddrsOf(req('cparam01'), 'Contact')[0]!;
    expect(c1.uri).toBe('sip:+19725552222@gw1.example.net');
    expect(c1.params.has('unknownparam')).toBe(true);
    const c2 = nameAddrsOf(req('cparam02'), 'Contact')[0]!;
    expect(parseSipUri(c2.uri)!.params.has('unknownparam')).toBe(true);
    expect(c2.params.size).toBe(0);
  });

  it('regescrt: the escaped Route header stays in the Contact URI', () => {
    const c = nameAddrsOf(req('regescrt'), 'Contact')[0]!;
    expect(unescape(parseSipUri(c.uri)!.headers!)).toBe('Route=<sip:sip.example.com>');
  });

  it('bcast, zeromf, bext01, invut, sdp01, regaut01: the values the layers above act on', () => {
    expect(viasOf(parsed('bcast'))[1]!.host).toBe('255.255.255.255');
    expect(req('zeromf').headers.get('Max-Forwards')).toBe('0');
    expect(req('bext01').headers.getAll('Require')).toEqual(['nothingSupportsThis', 'nothingSupportsThisEither']);
    expect(req('invut').headers.get('Content-Type')).toBe('application/unknownformat');
    expect(req('sdp01').headers.get('Accept')).toBe('text/nobodyKnowsThis');
    expect(req('regaut01').headers.get('Authorization')).toBe('NoOneKnowsThisScheme opaque-data=here');
  });

  it('inv2543: no Max-Forwards, branch, From tag or Content-Length; the body is the rest of the datagram', () => {
    const m = req('inv2543');
    expect(m.headers.has('Max-Forwards')).toBe(false);
    expect(topViaOf(m).params.has('branch')).toBe(false);
    expect(fromOf(m).params.has('tag')).toBe(false);
    expect(m.body.toString()).toMatch(/^v=0\r\n[\s\S]*m=audio 49217 RTP\/AVP 0\r\n$/);
  });

  it('escruri: parsed liberally, the escaped headers left visible for the UA to refuse (the RFC allows both)', () => {
    expect(unescape(parseSipUri(req('escruri').uri)!.headers!)).toBe('Route=<sip:example.com>');
  });

  it('baddate: kept as written, neither refused nor rewritten (the RFC: refuse only if Date matters)', () => {
    expect(req('baddate').headers.get('Date')).toBe('Fri, 01 Jan 2010 16:00:00 EST');
  });
});

describe('RFC 4475 3.1.2: what is left of the invalid messages for an answer', () => {
  it('badvers: 505 with the request still readable to answer it', () => {
    const r = parseMessage(rfc4475Bytes('badvers'));
    expect(!r.ok && r.partial?.kind === 'request' && r.partial.method).toBe('OPTIONS');
  });

  it('mismatch02: the unknown method is kept, so a UA can answer 501 (sec. 8.2.1 comes before 8.2.2)', () => {
    const r = parseMessage(rfc4475Bytes('mismatch02'));
    expect(!r.ok && r.partial?.kind === 'request' && r.partial.method).toBe('NEWMETHOD');
  });

  it('lwsruri, lwsstart, trws: a broken Request-Line still leaves the headers to answer 400 with', () => {
    for (const name of ['lwsruri', 'lwsstart', 'trws']) {
      const r = parseMessage(rfc4475Bytes(name));
      expect(!r.ok && r.partial?.headers.get('Call-ID'), name).toMatch(new RegExp(`^${name}\\.`));
    }
  });
});
