import { describe, expect, it } from 'vitest';
import { CmsError, CpimParseError, buildCpim, parseCpim } from '../src/index.ts';
import { cmsError, dec, enc } from './helpers.ts';

// Modelled on the example message of RFC 3862 sec. 5 (namespaced extension headers,
// a language-tagged Subject, Require naming an extension header).
const RFC3862_STYLE = [
  'From: MR SANDERS <im:piglet@100akerwood.com>',
  'To: Depressed Donkey <im:eeyore@100akerwood.com>',
  'DateTime: 2000-12-13T13:40:00-08:00',
  'Subject: the weather will be fine today',
  'Subject:;lang=fr beau temps prevu pour aujourd\'hui',
  'NS: MyFeatures <mid:MessageFeatures@id.foo.com>',
  'Require: MyFeatures.VitalMessageOption',
  'MyFeatures.VitalMessageOption: Confirmation-requested',
  'MyFeatures.WackyMessageOption: Use-silly-font',
  '',
  'Content-type: text/xml; charset=utf-8',
  'Content-ID: <1234567890@foo.com>',
  '',
  '<body>\r\nHere is the text of my message.\r\n</body>',
].join('\r\n');

describe('CPIM parse (RFC 3862)', () => {
  it('reads every header of an RFC 3862 sec. 5-style message', () => {
    const m = parseCpim(enc(RFC3862_STYLE));
    expect(m.from).toEqual({ name: 'MR SANDERS', uri: 'im:piglet@100akerwood.com' });
    expect(m.to).toEqual([{ name: 'Depressed Donkey', uri: 'im:eeyore@100akerwood.com' }]);
    expect(m.dateTime?.toISOString()).toBe('2000-12-13T21:40:00.000Z');
    expect(m.subject).toEqual([{ value: 'the weather will be fine today' }, { value: "beau temps prevu pour aujourd'hui", lang: 'fr' }]);
    expect(m.ns).toEqual([{ prefix: 'MyFeatures', uri: 'mid:MessageFeatures@id.foo.com' }]);
    expect(m.require).toEqual(['MyFeatures.VitalMessageOption']);
    expect(m.headers.map((h) => h.name)).toContain('MyFeatures.WackyMessageOption');
    expect(m.contentType).toBe('text/xml; charset=utf-8');
    expect(m.contentId).toBe('<1234567890@foo.com>');
    expect(dec(m.body)).toBe('<body>\r\nHere is the text of my message.\r\n</body>');
  });

  it('treats header names case-sensitively (RFC 3862 sec. 3.1): "from" is an extension header', () => {
    const e = cpimErr('from: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi');
    expect(e.message).toMatch(/no From/);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['no blank line', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\n', /no blank line/],
    ['LF-only line ends', 'From: <sip:a@x>\nTo: <sip:b@x>\n\nContent-Type: text/plain\n\nhi', /blank line/],
    ['no space after the colon', 'From:<sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /space after the colon/],
    ['two From headers', 'From: <sip:a@x>\r\nFrom: <sip:c@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /more than one From/],
    ['no To', 'From: <sip:a@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /no To/],
    ['address without angle brackets', 'From: sip:a@x\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /not \[Formal-name\] <URI>/],
    ['relative URI', 'From: <alice>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /absolute URI/],
    ['bad DateTime', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\nDateTime: yesterday\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /RFC 3339/],
    ['control character', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\nSubject: a\u0007b\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /control character/],
    ['no Content-Type', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-ID: <1@x>\r\n\r\nhi', /no Content-Type/],
    ['no MIME blank line', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\nhi', /encapsulated MIME/],
    ['header name with a space', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\nX Y: z\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /Name: value/],
    ['bad NS', 'From: <sip:a@x>\r\nTo: <sip:b@x>\r\nNS: <>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /NS/],
    ['bad quoted formal name', 'From: "Al"ice" <sip:a@x>\r\nTo: <sip:b@x>\r\n\r\nContent-Type: text/plain\r\n\r\nhi', /quoted string/],
  ];
  for (const [what, text, re] of bad) {
    it(`refuses ${what} with a CpimParseError`, () => {
      expect(cpimErr(text).message).toMatch(re);
    });
  }

  it('refuses invalid UTF-8 in the headers', () => {
    const b = enc('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nSubject: xx\r\n\r\nContent-Type: text/plain\r\n\r\nhi');
    b[b.indexOf(0x78)] = 0xff;
    expect(() => parseCpim(b)).toThrow(/UTF-8/);
  });

  it('names the line where parsing stopped', () => {
    const e = cpimErr('From: <sip:a@x>\r\nTo: <sip:b@x>\r\nDateTime: nope\r\n\r\nContent-Type: text/plain\r\n\r\nhi');
    expect(e.line).toBe(3);
  });
});

describe('CPIM build', () => {
  it('round-trips every field, the body byte for byte', () => {
    const body = new Uint8Array(300).map((_, i) => i & 0xff); // binary, with CR LF inside
    const bytes = buildCpim({
      from: { name: 'Alice', uri: 'sip:alice@ims.example' },
      to: [{ uri: 'sip:bob@ims.example' }, { name: 'Carol C', uri: 'sip:carol@ims.example' }],
      cc: [{ uri: 'sip:dave@ims.example' }],
      dateTime: new Date('2026-12-02T10:00:00.250Z'),
      subject: [{ value: 'hi' }, { value: 'salut', lang: 'fr' }],
      ns: [{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }],
      require: ['imdn.Message-ID'],
      extraHeaders: [{ name: 'imdn.Message-ID', value: '34jk324j' }],
      contentType: 'application/octet-stream',
      contentId: '<1@ims.example>',
      body,
    });
    const m = parseCpim(bytes);
    expect(m.from).toEqual({ name: 'Alice', uri: 'sip:alice@ims.example' });
    expect(m.to).toEqual([{ uri: 'sip:bob@ims.example' }, { name: 'Carol C', uri: 'sip:carol@ims.example' }]);
    expect(m.cc).toEqual([{ uri: 'sip:dave@ims.example' }]);
    expect(m.dateTime?.getTime()).toBe(Date.parse('2026-12-02T10:00:00.250Z'));
    expect(m.subject).toEqual([{ value: 'hi' }, { value: 'salut', lang: 'fr' }]);
    expect(m.ns).toEqual([{ prefix: 'imdn', uri: 'urn:ietf:params:imdn' }]);
    expect(m.require).toEqual(['imdn.Message-ID']);
    expect(m.headers.find((h) => h.name === 'imdn.Message-ID')?.value).toBe('34jk324j');
    expect(m.contentType).toBe('application/octet-stream');
    expect(m.contentId).toBe('<1@ims.example>');
    expect(m.body).toEqual(body);
    // Rebuilding the parsed message gives the same bytes: nothing is reformatted.
    const rebuilt = buildCpim({
      from: m.from, to: m.to, cc: m.cc, dateTime: m.dateTime!, subject: m.subject, ns: m.ns, require: m.require,
      extraHeaders: m.headers.filter((h) => h.name.includes('.')),
      contentType: m.contentType, contentId: m.contentId!, body: m.body,
    });
    expect(rebuilt).toEqual(bytes);
  });

  it('quotes a formal name that is not tokens, escaping quote and backslash (RFC 3862 sec. 3.6)', () => {
    const name = 'Dr. "Who" \\ <the> Doctor';
    const bytes = buildCpim({ from: { name, uri: 'sip:who@ims.example' }, to: { uri: 'sip:b@x' }, contentType: 'text/plain', body: 'x' });
    expect(dec(bytes)).toContain('From: "Dr. \\"Who\\" \\\\ <the> Doctor"<sip:who@ims.example>');
    expect(parseCpim(bytes).from.name).toBe(name);
  });

  it('refuses a header value that would inject a line (bad-argument)', async () => {
    const e = await cmsError(() => buildCpim({ from: { uri: 'sip:a@x' }, to: { uri: 'sip:b@x' }, subject: 'hi\r\nFrom: <sip:evil@x>', contentType: 'text/plain', body: '' }));
    expect(e.code).toBe('bad-argument');
    const e2 = await cmsError(() => buildCpim({ from: { uri: 'sip:a@x>' }, to: { uri: 'sip:b@x' }, contentType: 'text/plain', body: '' }));
    expect(e2.code).toBe('bad-argument');
  });
});

function cpimErr(text: string): CpimParseError {
  try {
    parseCpim(enc(text));
  } catch (e) {
    expect(e).toBeInstanceOf(CpimParseError);
    expect((e as CmsError).code).toBe('cpim-malformed');
    return e as CpimParseError;
  }
  throw new Error('parsed, expected a CpimParseError');
}
