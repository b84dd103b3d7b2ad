/**
 * One pass over one capture file: each pcapng interface is a link of its
 * own (a classic pcap file is one link), scanned by its own MediaScanner
 * (every packet accounted for), with every SIP message seen in the clear
 * kept with its hop and time, and the first packets of every stream sampled.
 */
import { CaptureFileReader } from '@imslab/capture';
import type { LoggedKey } from '../keys.ts';
import { MediaScanner, type MediaFlowReport, type SignallingReport } from '../link-scan.ts';
import { PayloadSampler, type StreamSample } from './payload-samples.ts';

/** What one interface of one file held. */
export interface InterfacePass {
  interfaceId: number;
  interfaceName?: string;
  linkType: number;
  packets: number;
  media: MediaFlowReport[];
  signalling: SignallingReport;
  /** SIP messages read in the clear: flow (`udp a > b`), text, capture time. */
  sip: Array<{ flow: string; message: Buffer; timeUs: number }>;
  samples: StreamSample[];
}

export interface FilePass {
  file: string;
  interfaces: InterfacePass[];
  /** The capture could not be read to the end: what and where (everything before it is in `interfaces`). */
  error?: string;
}

interface Live {
  pass: InterfacePass;
  scanner: MediaScanner;
  sampler: PayloadSampler | null;
}

/**
 * Reads `file` once. `sample` false skips the stream samples (a second scan
 * with more keys needs only the classification).
 */
export async function passOverFile(file: string, keys: LoggedKey[], sample: boolean): Promise<FilePass> {
  const live = new Map<number, Live>();
  const ifaceOf = (id: number, name: string | undefined, linkType: number): Live => {
    let l = live.get(id);
    if (!l) {
      const pass: InterfacePass = { interfaceId: id, interfaceName: name, linkType, packets: 0, media: [], signalling: null as unknown as SignallingReport, sip: [], samples: [] };
      // A copy of each SIP message: a few kilobytes, and the reader's chunk is not kept alive.
      const scanner = new MediaScanner(keys, (flow, message, timeUs) => pass.sip.push({ flow, message: Buffer.from(message), timeUs }));
      l = { pass, scanner, sampler: sample ? new PayloadSampler() : null };
      live.set(id, l);
    }
    return l;
  };
  const out: FilePass = { file, interfaces: [] };
  let reader: CaptureFileReader | null = null;
  try {
    reader = await CaptureFileReader.open(file);
    let last: Live | null = null;
    while (await reader.refill()) {
      for (let p = reader.next(); p !== null; p = reader.next()) {
        const l: Live = last !== null && last.pass.interfaceId === p.interfaceId ? last : ifaceOf(p.interfaceId, p.interfaceName, p.linkType);
        last = l;
        l.pass.packets++;
        l.scanner.packet(p);
        l.sampler?.packet(p);
      }
    }
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    out.error = err.code === 'ENOENT' ? 'no such file' : err.message;
  } finally {
    await reader?.close().catch(() => undefined);
  }
  for (const l of [...live.values()].sort((a, b) => a.pass.interfaceId - b.pass.interfaceId)) {
    l.pass.media = l.scanner.finish();
    l.pass.signalling = l.scanner.signalling;
    l.pass.samples = l.sampler?.streams ?? [];
    out.interfaces.push(l.pass);
  }
  return out;
}
