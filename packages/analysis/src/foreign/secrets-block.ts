/**
 * TLS secrets a pcapng file carries itself: Decryption Secrets Blocks
 * (draft-ietf-opsawg-pcapng sec. 4.7, Secrets Type 0x544c534b "TLS Key Log",
 * as our all-links.pcapng and `editcap --inject-secrets` write them). The
 * capture reader skips these blocks; here the file's head is walked block by
 * block up to the first packet, where writers put them (secrets must come
 * before the packets they decrypt), so a large capture is not read twice.
 */
import { closeSync, openSync, readSync } from 'node:fs';

/** Block types and codes of the pcapng draft (sec. 4.1-4.7); @imslab/capture exports the reader, not these. */
const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_OPB = 0x00000002;
const BLOCK_SPB = 0x00000003;
const BLOCK_EPB = 0x00000006;
const BLOCK_DSB = 0x0000000a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const SECRETS_TYPE_TLS_KEY_LOG = 0x544c534b;

/** More than this in one block is not a key log. */
const MAX_SECRETS = 16 * 1024 * 1024;

/** The TLS key log text of every DSB before the first packet; empty for pcap files and pcapng without one. */
export function readSecretsBlocks(file: string): string[] {
  const fd = openSync(file, 'r');
  const out: string[] = [];
  try {
    const head = Buffer.alloc(12);
    let at = 0;
    let le = true;
    for (;;) {
      if (readSync(fd, head, 0, 12, at) < 12) break;
      const typeLe = head.readUInt32LE(0);
      if (at === 0) {
        if (typeLe !== BLOCK_SHB) break; // classic pcap: no secrets block
        le = head.readUInt32LE(8) === BYTE_ORDER_MAGIC;
      }
      const type = le ? typeLe : head.readUInt32BE(0);
      const len = le ? head.readUInt32LE(4) : head.readUInt32BE(4);
      if (len < 12 || len % 4 !== 0) break;
      if (type === BLOCK_EPB || type === BLOCK_SPB || type === BLOCK_OPB) break;
      if (type === BLOCK_SHB && at > 0) le = head.readUInt32LE(8) === BYTE_ORDER_MAGIC;
      if (type === BLOCK_DSB && len <= MAX_SECRETS) {
        const body = Buffer.alloc(len - 12);
        readSync(fd, body, 0, body.length, at + 8);
        const secretsType = le ? body.readUInt32LE(0) : body.readUInt32BE(0);
        const n = le ? body.readUInt32LE(4) : body.readUInt32BE(4);
        if (secretsType === SECRETS_TYPE_TLS_KEY_LOG && 8 + n <= body.length) out.push(body.toString('utf8', 8, 8 + n));
      }
      at += len;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}
