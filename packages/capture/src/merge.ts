/**
 * Streaming k-way merge of capture files into one pcapng (like `mergecap`,
 * but naming each input's interface, and embedding the TLS secrets like
 * `editcap --inject-secrets`). Memory: one chunk per input plus a binary
 * heap of k heads.
 */
import { writeTlsKeyLogBlock, type TlsKeyLogSources } from './decryption-secrets.ts';
import type { CapturedPacket } from './packet.ts';
import { PcapngWriter } from './pcapng-writer.ts';
import { CaptureFileReader } from './read-capture.ts';

interface Head {
  input: number;
  reader: CaptureFileReader;
  packet: CapturedPacket;
}

/** Earlier timestamp first; ties keep input order, so the merge is stable. */
function before(a: Head, b: Head): boolean {
  return a.packet.timestampUs < b.packet.timestampUs || (a.packet.timestampUs === b.packet.timestampUs && a.input < b.input);
}

async function nextPacket(reader: CaptureFileReader): Promise<CapturedPacket | null> {
  for (;;) {
    const p = reader.next();
    if (p !== null) return p;
    if (!(await reader.refill())) return null;
  }
}

/**
 * Options of {@link mergeCaptures}: TLS key logs to embed as a Decryption
 * Secrets Block (pcapng draft sec 4.7), so Wireshark and tshark read the SIP
 * inside TLS with no `tls.keylog_file` preference.
 */
export type MergeOptions = TlsKeyLogSources;

/** What {@link mergeCaptures} wrote. */
export interface MergeResult {
  packets: number;
  /** Secret lines in the Decryption Secrets Block; set when key logs were given (0: none usable, no block written). */
  tlsSecretLines?: number;
}

/**
 * Merges several capture files into one pcapng, one interface per input
 * named by the given name, packets in timestamp order (streaming k-way merge,
 * stable for equal timestamps). An input whose packets use several link
 * types gets one more interface per extra link type, named `<name>:<linkType>`.
 * An input without packets still gets its interface when its header names a
 * link type. Original lengths are kept and nothing is cut (snap length 0).
 * With TLS key logs in `opts`, their secrets are written once, as one
 * Decryption Secrets Block right after the section header, before any packet.
 * @throws TlsKeyLogError when a key log file cannot be read
 */
export async function mergeCaptures(inputs: Array<{ name: string; path: string }>, out: string, opts: MergeOptions = {}): Promise<MergeResult> {
  const readers: CaptureFileReader[] = [];
  let writer: PcapngWriter | undefined;
  try {
    for (const i of inputs) readers.push(await CaptureFileReader.open(i.path));
    const firsts = await Promise.all(readers.map((r) => nextPacket(r)));
    writer = new PcapngWriter(out);
    const w = writer;
    const wantSecrets = opts.tlsKeyLogFiles !== undefined || opts.tlsKeyLogTexts !== undefined;
    const tlsSecretLines = wantSecrets ? await writeTlsKeyLogBlock(w, opts) : undefined;
    // Interface per (input, link type); the input's own link type gets the plain name.
    const ifIds = inputs.map(() => new Map<number, number>());
    const interfaceFor = (input: number, linkType: number): number => {
      const m = ifIds[input]!;
      let id = m.get(linkType);
      if (id === undefined) {
        const name = m.size === 0 ? inputs[input]!.name : `${inputs[input]!.name}:${linkType}`;
        id = w.addInterface(name, linkType, 0);
        m.set(linkType, id);
      }
      return id;
    };
    const heap: Head[] = [];
    readers.forEach((reader, input) => {
      const lt = firsts[input]?.linkType ?? reader.firstLinkType;
      if (lt !== undefined) interfaceFor(input, lt);
      const packet = firsts[input];
      if (packet) heapPush(heap, { input, reader, packet });
    });
    let packets = 0;
    while (heap.length > 0) {
      const top = heap[0]!;
      const p = top.packet;
      w.write(interfaceFor(top.input, p.linkType), p.timestampUs, p.data, p.originalLength);
      packets++;
      const next = await nextPacket(top.reader);
      if (next === null) heapPop(heap);
      else {
        top.packet = next;
        siftDown(heap, 0);
      }
    }
    await w.close();
    return tlsSecretLines === undefined ? { packets } : { packets, tlsSecretLines };
  } finally {
    await writer?.close();
    await Promise.all(readers.map((r) => r.close()));
  }
}

function heapPush(h: Head[], x: Head): void {
  h.push(x);
  let i = h.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (!before(h[i]!, h[parent]!)) break;
    [h[i], h[parent]] = [h[parent]!, h[i]!];
    i = parent;
  }
}

function heapPop(h: Head[]): void {
  const last = h.pop()!;
  if (h.length > 0) {
    h[0] = last;
    siftDown(h, 0);
  }
}

function siftDown(h: Head[], i: number): void {
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && before(h[l]!, h[m]!)) m = l;
    if (r < h.length && before(h[r]!, h[m]!)) m = r;
    if (m === i) return;
    [h[i], h[m]] = [h[m]!, h[i]!];
    i = m;
  }
}
