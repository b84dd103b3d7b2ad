/**
 * pcapng writer (draft-ietf-opsawg-pcapng): one section, one Interface
 * Description Block per link named with if_name, Enhanced Packet Blocks
 * with the default microsecond resolution (no if_tsresol needed, sec 4.2),
 * and optionally Decryption Secrets Blocks (sec 4.7).
 */
import { CaptureWriteError } from './errors.ts';
import { checkTimestampUs, FileSink } from './file-sink.ts';
import { PCAP_MAX_SNAPLEN } from './pcap-format.ts';
import { BLOCK_EPB, encodeDsb, encodeIdb, encodeShb, MAX_BLOCK_LENGTH, OPT_IF_NAME, OPT_SHB_USERAPPL, pad4, stringOption } from './pcapng-format.ts';
import { usToWords } from './timestamps.ts';

/** Largest secrets payload written: our reader takes blocks over 16 MiB as corrupt (Wireshark caps blocks similarly). */
const MAX_SECRETS_BYTES = MAX_BLOCK_LENGTH - 64;

/** Options of {@link PcapngWriter} (addition). */
export interface PcapngWriterOptions {
  /** Write a big-endian section (default little-endian). */
  bigEndian?: boolean;
  /** shb_userappl text; default `@imslab/capture`. */
  userAppl?: string;
}

/** Writes pcapng with one Interface Description Block per link, named after the link (if_name option), e.g. access-a, core, access-b. */
export class PcapngWriter {
  private readonly sink: FileSink;
  private readonly le: boolean;
  private readonly snapLens: number[] = [];

  constructor(path: string, opts: PcapngWriterOptions = {}) {
    this.sink = new FileSink(path);
    this.le = !opts.bigEndian;
    this.sink.write(encodeShb(this.le, [stringOption(OPT_SHB_USERAPPL, opts.userAppl ?? '@imslab/capture')]));
  }

  /** Adds an interface; returns its id for `write`. `snapLen` 0 means no limit; default 262144. */
  addInterface(name: string, linkType: number, snapLen: number = PCAP_MAX_SNAPLEN): number {
    this.sink.write(encodeIdb(this.le, linkType, snapLen, [stringOption(OPT_IF_NAME, name)]));
    this.snapLens.push(snapLen);
    return this.snapLens.length - 1;
  }

  /**
   * Appends a Decryption Secrets Block (draft sec 4.7), e.g. type
   * SECRETS_TYPE_TLS_KEY_LOG (pcapng-format.ts) with SSLKEYLOGFILE text. Write it before
   * the packets it decrypts: Wireshark applies secrets as it reads them.
   */
  addDecryptionSecrets(secretsType: number, secrets: Buffer): void {
    if (secrets.length > MAX_SECRETS_BYTES) {
      throw new CaptureWriteError('secrets-too-large', this.sink.path, `${secrets.length} octets of secrets exceed the ${MAX_SECRETS_BYTES}-octet block limit readers apply`);
    }
    this.sink.write(encodeDsb(this.le, secretsType, secrets));
  }

  /** Appends one Enhanced Packet Block; `originalLength` (addition) defaults to `data.length`. */
  write(interfaceId: number, timestampUs: number, data: Buffer, originalLength: number = data.length): void {
    const snap = this.snapLens[interfaceId];
    if (snap === undefined) throw new CaptureWriteError('unknown-interface', this.sink.path, `interface ${interfaceId} was not added`);
    const [hi, lo] = usToWords(checkTimestampUs(this.sink.path, timestampUs));
    const caplen = snap > 0 ? Math.min(data.length, snap) : data.length;
    const total = 32 + pad4(caplen);
    const at = this.sink.reserve(total);
    const b = this.sink.buffer;
    if (this.le) {
      b.writeUInt32LE(BLOCK_EPB, at); b.writeUInt32LE(total, at + 4); b.writeUInt32LE(interfaceId, at + 8);
      b.writeUInt32LE(hi, at + 12); b.writeUInt32LE(lo, at + 16); b.writeUInt32LE(caplen, at + 20);
      b.writeUInt32LE(originalLength >>> 0, at + 24); b.writeUInt32LE(total, at + total - 4);
    } else {
      b.writeUInt32BE(BLOCK_EPB, at); b.writeUInt32BE(total, at + 4); b.writeUInt32BE(interfaceId, at + 8);
      b.writeUInt32BE(hi, at + 12); b.writeUInt32BE(lo, at + 16); b.writeUInt32BE(caplen, at + 20);
      b.writeUInt32BE(originalLength >>> 0, at + 24); b.writeUInt32BE(total, at + total - 4);
    }
    data.copy(b, at + 28, 0, caplen);
    b.fill(0, at + 28 + caplen, at + total - 4);
  }

  /** Flushes and closes the file. */
  close(): Promise<void> {
    return this.sink.close();
  }
}
