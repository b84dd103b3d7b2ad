import { describe, expect, it } from 'vitest';
import { StreamFramer, parseMessage } from '../src/index.ts';
import { BASIC_INVITE } from './fixtures.ts';

describe('stream framing (sec. 18.3)', () => {
  it('splits back-to-back messages fed byte by byte, with keep-alives between', () => {
    const stream = Buffer.from('\r\n\r\n' + BASIC_INVITE + '\r\n' + BASIC_INVITE);
    const f = new StreamFramer();
    const items = [];
    for (const b of stream) items.push(...f.push(Buffer.from([b])));
    const messages = items.filter((i) => i.kind === 'message');
    expect(messages.length).toBe(2);
    for (const m of messages) if (m.kind === 'message') expect(parseMessage(m.data).ok).toBe(true);
    expect(items.some((i) => i.kind === 'keepalive')).toBe(true);
    expect(f.pending).toBe(0);
  });

  it('waits for the whole body', () => {
    const f = new StreamFramer();
    const half = BASIC_INVITE.length - 2;
    expect(f.push(Buffer.from(BASIC_INVITE.slice(0, half)))).toEqual([]);
    expect(f.push(Buffer.from(BASIC_INVITE.slice(half))).length).toBe(1);
  });

  it('rejects absurd sizes and then stays silent', () => {
    const f = new StreamFramer({ maxBodyBytes: 1000 });
    const items = f.push(Buffer.from(BASIC_INVITE.replace('Content-Length: 4', 'Content-Length: 99999999')));
    expect(items.at(-1)?.kind).toBe('error');
    expect(f.push(Buffer.from(BASIC_INVITE))).toEqual([]);
    const g = new StreamFramer({ maxHeaderBytes: 100 });
    expect(g.push(Buffer.from('x'.repeat(200))).at(-1)?.kind).toBe('error');
  });
});
