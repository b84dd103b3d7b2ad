/** Test helpers: a deterministic PRNG (mulberry32) and feeding a parser in given splits. */
import { MsrpStreamParser, type ParseEvent, type ParserOptions } from '../src/index.ts';
import { prng } from '@imslab/fuzz';

export { prng };

/** Feeds `bytes` in pieces whose lengths come from `sizes` (cycled); returns every event and the end() events. */
export function feed(bytes: Buffer, sizes: () => number, opts?: ParserOptions): { events: ParseEvent[]; parser: MsrpStreamParser } {
  const parser = new MsrpStreamParser(opts);
  const events: ParseEvent[] = [];
  for (let i = 0; i < bytes.length;) {
    const n = Math.max(1, sizes());
    events.push(...parser.push(bytes.subarray(i, i + n)));
    i += n;
  }
  return { events, parser };
}

/** Events as comparable plain data (errors by code and fatality). */
export function summary(events: ParseEvent[]): unknown[] {
  return events.map((e) =>
    e.kind === 'frame' ? { frame: e.frame } : e.kind === 'invalid' ? { invalid: e.error.code, tid: e.transactionId } : { error: e.error.code },
  );
}
