/** SDP for MSRP (RFC 4975 sec. 8) and RFC 5547 file transfer, written and read through sdp-transform. */
import { describe, expect, it } from 'vitest';
import { acceptsType, buildMsrpSdp, formatFileSelector, parseFileSelector, parseMsrpSdp, parseMsrpUri, sha1Colon, type MsrpUri } from '../src/index.ts';

const u = (s: string): MsrpUri => {
  const r = parseMsrpUri(s);
  if (!r.ok) throw r.error;
  return r.uri;
};

describe('MSRP SDP', () => {
  it('reads the RFC 4975 sec. 11.1 offer (m=message 7777 TCP/MSRP *)', () => {
    const text = ['v=0', 'o=alice 2890844526 2890844527 IN IP4 alicepc.example.com', 's=-', 'c=IN IP4 alicepc.example.com', 't=0 0',
      'm=message 7777 TCP/MSRP *', 'a=accept-types:text/plain', 'a=path:msrp://alicepc.example.com:7777/iau39soe2843z;tcp', ''].join('\r\n');
    const r = parseMsrpSdp(text);
    if (!r.ok) throw r.error;
    expect(r.media).toHaveLength(1);
    expect(r.media[0]).toMatchObject({ port: 7777, tls: false, acceptTypes: ['text/plain'] });
    expect(r.media[0]!.path[0]!.sessionId).toBe('iau39soe2843z');
  });

  it('writes TLS media behind a relay with RFC 5547 file-transfer attributes and reads them back', () => {
    const sha1 = sha1Colon('72245fe8653ddaf371362f86d471913ee4a2ce2e');
    const text = buildMsrpSdp({
      address: '127.9.0.2',
      sessionId: 42,
      media: [{
        port: 2855, tls: true,
        path: [u('msrps://127.9.0.1:5555/relaysess;tcp'), u('msrps://127.9.0.2:2855/alicesess;tcp')],
        acceptTypes: ['message/cpim', 'application/octet-stream'], acceptWrappedTypes: ['text/plain', 'image/jpeg'],
        setup: 'active', direction: 'sendonly',
        fileSelector: { name: 'My cool picture.jpg', type: 'image/jpeg', size: 32349, sha1 },
        fileTransferId: 'vBnG916bdberum2fFEABR1FR3ExZMUrd', fileDisposition: 'render',
      }],
    });
    expect(text).toContain('m=message 2855 TCP/TLS/MSRP *\r\n');
    expect(text).toContain('a=path:msrps://127.9.0.1:5555/relaysess;tcp msrps://127.9.0.2:2855/alicesess;tcp\r\n');
    expect(text).toContain(`a=file-selector:name:"My cool picture.jpg" type:image/jpeg size:32349 hash:sha-1:${sha1}\r\n`);
    expect(text).toContain('a=setup:active\r\n');
    const r = parseMsrpSdp(text);
    if (!r.ok) throw r.error;
    expect(r.address).toBe('127.9.0.2');
    expect(r.media[0]).toMatchObject({
      tls: true, setup: 'active', direction: 'sendonly', acceptWrappedTypes: ['text/plain', 'image/jpeg'],
      fileSelector: { name: 'My cool picture.jpg', type: 'image/jpeg', size: 32349, sha1 }, fileTransferId: 'vBnG916bdberum2fFEABR1FR3ExZMUrd', fileDisposition: 'render',
    });
    expect(r.media[0]!.path.map((p) => p.sessionId)).toEqual(['relaysess', 'alicesess']);
  });

  it('refuses m=message without a=path or a=accept-types, and bad file selectors', () => {
    const base = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 'c=IN IP4 127.0.0.1', 't=0 0', 'm=message 9 TCP/MSRP *'];
    const noPath = parseMsrpSdp([...base, 'a=accept-types:*', ''].join('\r\n'));
    expect(!noPath.ok && noPath.error.code).toBe('missing-header');
    const noAccept = parseMsrpSdp([...base, 'a=path:msrp://h:9/s;tcp', ''].join('\r\n'));
    expect(!noAccept.ok && noAccept.error.code).toBe('missing-header');
    expect(parseFileSelector('name:"x" size:abc').ok).toBe(false);
    expect(() => formatFileSelector({ name: 'a"b' })).toThrow();
  });

  it('accept-types wildcards (sec. 8.2)', () => {
    expect(acceptsType(['text/*'], 'text/plain; charset=utf-8')).toBe(true);
    expect(acceptsType(['*'], 'image/png')).toBe(true);
    expect(acceptsType(['message/cpim'], 'text/plain')).toBe(false);
  });
});
