/**
 * Every vector in test/vectors/srtp_*.json (copied from shared/vectors, see
 * each file's `source`), replayed against the implementation.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AesCm, aesCmIv } from '../src/aes-cm.ts';
import { deriveSessionKeys, kdfOutput } from '../src/kdf.ts';
import { SRTP_PROFILES, SrtpContext, SrtpVerifier } from '../src/index.ts';
import { GcmTransform } from '../src/transform-gcm.ts';
import { CmTransform } from '../src/transform-cm.ts';
import { hex, loadVectors } from './helpers.ts';

const v3711 = loadVectors('srtp_rfc3711_vectors.json');
const v7714 = loadVectors('srtp_rfc7714_gcm_vectors.json');
const known = loadVectors('srtp_known_packet_libsrtp.json');

/** AES-CM keystream blocks [0, nBlocks) for a session key and 16-octet IV. */
function keystream(key: string, iv: string, nBlocks: number): Buffer {
  const out = Buffer.alloc(nBlocks * 16);
  new AesCm(hex(key)).xorIv(hex(iv), Buffer.alloc(nBlocks * 16), 0, nBlocks * 16, out, 0);
  return out;
}

type Block = { block_index: number; counter: string; keystream: string };

function checkBlocks(ks: Buffer, blocks: Block[]): void {
  for (const b of blocks) {
    expect(ks.subarray(b.block_index * 16, b.block_index * 16 + 16).toString('hex'), `block ${b.block_index}`).toBe(b.keystream.toLowerCase());
  }
}

// RFC 3711 appendix B.2: AES-CM keystream, IV = (salt*2^16) XOR (SSRC*2^64) XOR (index*2^16).
describe('RFC 3711 B.2 AES-CM keystream', () => {
  const b2 = v3711.rfc3711_B2_aes_cm;
  it('produces the listed blocks and the full 65282-block segment', () => {
    const ks = keystream(b2.session_key, b2.offset, b2.keystream_segment_length_blocks);
    expect(ks.length).toBe(b2.keystream_segment_length_octets);
    checkBlocks(ks, b2.keystream_blocks);
    expect(createHash('sha256').update(ks).digest('hex')).toBe(b2.keystream_sha256_full_segment);
  });
  it('builds the IV from salt, SSRC and index as the note says', () => {
    // Salt 14 octets = the offset without its two counter octets; SSRC 0, index = 2^16 * ROC + SEQ = 0.
    const iv = Buffer.alloc(16);
    aesCmIv(hex(b2.session_salt_already_shifted).subarray(0, 14), Number.parseInt(b2.ssrc, 16), Number.parseInt(b2.rollover_counter, 16) * 65536 + Number.parseInt(b2.sequence_number, 16), iv);
    expect(iv.toString('hex')).toBe(b2.offset.toLowerCase());
    for (const b of b2.keystream_blocks as Block[]) {
      const counter = Buffer.from(iv);
      counter.writeUInt16BE(b.block_index, 14);
      expect(counter.toString('hex')).toBe(b.counter.toLowerCase());
    }
  });
});

// RFC 3711 appendix B.3: key derivation, kdr = 0.
describe('RFC 3711 B.3 key derivation', () => {
  const b3 = v3711.rfc3711_B3_key_derivation;
  const mk = hex(b3.master_key);
  const ms = hex(b3.master_salt);
  for (const step of b3.steps as Array<{ what: string; label: string; output: string; aes_output_block?: string; output_blocks?: string[] }>) {
    it(`derives the ${step.what} (label ${step.label})`, () => {
      const out = kdfOutput(mk, ms, Number.parseInt(step.label, 16), 0, hex(step.output).length);
      expect(out.toString('hex')).toBe(step.output.toLowerCase());
      if (step.aes_output_block) expect(kdfOutput(mk, ms, Number.parseInt(step.label, 16), 0, 16).toString('hex')).toBe(step.aes_output_block.toLowerCase());
      if (step.output_blocks) expect(out.toString('hex')).toBe(step.output_blocks.join('').toLowerCase());
    });
  }
  it('derives session keys for SRTP, and SRTCP keys equal to the computed values', () => {
    const p = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80;
    const rtp = deriveSessionKeys(p, mk, ms, false);
    expect(rtp.encKey.toString('hex')).toBe(b3.steps[0].output.toLowerCase());
    expect(rtp.salt.toString('hex')).toBe(b3.steps[1].output.toLowerCase());
    expect(rtp.authKey.toString('hex')).toBe(b3.steps[2].output_first_20.toLowerCase());
    const rtcp = deriveSessionKeys(p, mk, ms, true);
    expect(rtcp.encKey.toString('hex')).toBe(b3.computed_not_in_rfc.srtcp_cipher_key.toLowerCase());
    expect(rtcp.authKey.toString('hex')).toBe(b3.computed_not_in_rfc.srtcp_auth_key.toLowerCase());
    expect(rtcp.salt.toString('hex')).toBe(b3.computed_not_in_rfc.srtcp_cipher_salt.toLowerCase());
  });
});

// RFC 6188 sec. 7.1 (AES-256-CM keystream) and 7.2 (AES_256_CM_PRF).
describe('RFC 6188 sec. 7 AES-256', () => {
  const v = v3711.rfc6188_aes256;
  it('7.1: AES-256-CM keystream blocks', () => {
    const ks = keystream(v.aes256_cm.session_key, v.aes256_cm.session_salt_already_shifted, 65282);
    checkBlocks(ks, v.aes256_cm.keystream_blocks);
  });
  it('7.2: AES_256_CM_PRF session keys', () => {
    const k = deriveSessionKeys(SRTP_PROFILES.AES_256_CM_HMAC_SHA1_80, hex(v.aes256_cm_prf.master_key), hex(v.aes256_cm_prf.master_salt), false);
    expect(k.encKey.toString('hex')).toBe(v.aes256_cm_prf.cipher_key);
    expect(k.salt.toString('hex')).toBe(v.aes256_cm_prf.cipher_salt);
    expect(k.authKey.toString('hex')).toBe(v.aes256_cm_prf.auth_key);
  });
});

// RFC 7714 sec. 16 (SRTP) and 17 (SRTCP); keys are session keys, so the transform is keyed directly.
describe('RFC 7714 AES-GCM', () => {
  for (const vec of v7714.vectors) {
    const keys = { encKey: hex(vec.key), authKey: Buffer.alloc(0), salt: hex(vec.salt) };
    const gcm = () => new GcmTransform(keys, vec.tag_length_octets);
    const s = vec.srtp;
    const c = vec.srtcp;

    describe(`${vec.profile} SRTP (sec. ${s.rfc_sections})`, () => {
      const rtp = hex(s.rtp_plaintext);
      const ssrc = Number.parseInt(s.ssrc, 16);
      it('sec. 8.1 IV and 8.2 AAD', () => {
        expect(((gcm() as any).setIv(ssrc, s.roc, Number.parseInt(s.seq, 16)) as Buffer).toString('hex')).toBe(s.iv);
        expect(rtp.subarray(0, 12).toString('hex')).toBe(s.aad);
      });
      it('encrypt + tag', () => {
        expect(gcm().sealRtp(rtp, 12, ssrc, s.roc, true, undefined).toString('hex')).toBe(s.srtp_encrypted_and_tagged);
        expect(gcm().openRtp(hex(s.srtp_encrypted_and_tagged), 12, ssrc, s.roc, true, 0)?.toString('hex')).toBe(s.rtp_plaintext);
      });
      it('tag only (sec. 8.3: AAD = whole packet)', () => {
        expect(gcm().sealRtp(rtp, 12, ssrc, s.roc, false, undefined).toString('hex')).toBe(s.srtp_tag_only_not_encrypted);
        expect(gcm().openRtp(hex(s.srtp_tag_only_not_encrypted), 12, ssrc, s.roc, false, 0)?.toString('hex')).toBe(s.rtp_plaintext);
      });
      it('rejects a flipped bit', () => {
        const bad = hex(s.srtp_encrypted_and_tagged);
        bad[20]! ^= 1;
        expect(gcm().openRtp(bad, 12, ssrc, s.roc, true, 0)).toBeNull();
      });
    });

    describe(`${vec.profile} SRTCP (sec. ${c.rfc_sections})`, () => {
      const rtcp = hex(c.rtcp_plaintext);
      const ssrc = Number.parseInt(c.ssrc, 16);
      const index = Number.parseInt(c.srtcp_index, 16);
      it('sec. 9.1 IV', () => {
        expect(((gcm() as any).setIv(ssrc, index >>> 16, index & 0xffff) as Buffer).toString('hex')).toBe(c.iv);
      });
      it('encrypt + tag (E=1)', () => {
        expect(gcm().sealRtcp(rtcp, ssrc, index, true, undefined).toString('hex')).toBe(c.srtcp_encrypted_and_tagged);
        expect(gcm().openRtcp(hex(c.srtcp_encrypted_and_tagged), ssrc, 0)?.toString('hex')).toBe(c.rtcp_plaintext);
      });
      it('tag only (E=0)', () => {
        expect(gcm().sealRtcp(rtcp, ssrc, index, false, undefined).toString('hex')).toBe(c.srtcp_tag_only);
        expect(gcm().openRtcp(hex(c.srtcp_tag_only), ssrc, 0)?.toString('hex')).toBe(c.rtcp_plaintext);
      });
      it('rejects a flipped E flag', () => {
        const bad = hex(c.srtcp_encrypted_and_tagged);
        bad[bad.length - 4]! ^= 0x80;
        expect(gcm().openRtcp(bad, ssrc, 0)).toBeNull();
      });
    });
  }
});

// libsrtp test/srtp_driver.c srtp_validate(): AES_CM_128_HMAC_SHA1_80 reference packets.
describe('libsrtp srtp_validate known packets', () => {
  const mk = hex(known.master_key);
  const ms = hex(known.master_salt);
  it('session keys match', () => {
    const p = SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80;
    const rtp = deriveSessionKeys(p, mk, ms, false);
    const rtcp = deriveSessionKeys(p, mk, ms, true);
    expect(rtp.encKey.toString('hex')).toBe(known.session_keys.srtp_cipher_key);
    expect(rtp.authKey.toString('hex')).toBe(known.session_keys.srtp_auth_key);
    expect(rtp.salt.toString('hex')).toBe(known.session_keys.srtp_cipher_salt);
    expect(rtcp.encKey.toString('hex')).toBe(known.session_keys.srtcp_cipher_key);
    expect(rtcp.authKey.toString('hex')).toBe(known.session_keys.srtcp_auth_key);
    expect(rtcp.salt.toString('hex')).toBe(known.session_keys.srtcp_cipher_salt);
  });
  it('SRTP: IV, protect, unprotect, tag', () => {
    const keys = deriveSessionKeys(SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80, mk, ms, false);
    const iv = Buffer.alloc(16);
    aesCmIv(keys.salt, Number.parseInt(known.srtp.ssrc, 16), known.srtp.roc * 65536 + Number.parseInt(known.srtp.seq, 16), iv);
    expect(iv.toString('hex')).toBe(known.srtp.aes_cm_iv);
    const tx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: mk, masterSalt: ms });
    const srtp = tx.protectRtp(hex(known.srtp.rtp_plaintext));
    expect(srtp.toString('hex')).toBe(known.srtp.srtp_packet);
    expect(srtp.subarray(-10).toString('hex')).toBe(known.srtp.auth_tag_hmac_sha1_80);
    const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: mk, masterSalt: ms });
    const r = rx.unprotectRtp(hex(known.srtp.srtp_packet));
    expect(r.ok && r.packet.toString('hex')).toBe(known.srtp.rtp_plaintext);
    expect(new SrtpVerifier('AES_CM_128_HMAC_SHA1_80', mk, ms).verifyRtp(hex(known.srtp.srtp_packet))?.packet.toString('hex')).toBe(known.srtp.rtp_plaintext);
  });
  it('SRTCP: protect with index 1 and E=1, unprotect', () => {
    const keys = deriveSessionKeys(SRTP_PROFILES.AES_CM_128_HMAC_SHA1_80, mk, ms, true);
    const t = new CmTransform(keys, 10);
    const ssrc = Number.parseInt(known.srtcp.ssrc, 16);
    expect(t.sealRtcp(hex(known.srtcp.rtcp_plaintext), ssrc, known.srtcp.srtcp_index, known.srtcp.e_flag === 1, undefined).toString('hex')).toBe(known.srtcp.srtcp_packet);
    const rx = new SrtpContext({ profile: 'AES_CM_128_HMAC_SHA1_80', masterKey: mk, masterSalt: ms });
    const r = rx.unprotectRtcp(hex(known.srtcp.srtcp_packet));
    expect(r.ok && r.packet.toString('hex')).toBe(known.srtcp.rtcp_plaintext);
    expect(new SrtpVerifier('AES_CM_128_HMAC_SHA1_80', mk, ms).verifyRtcp(hex(known.srtcp.srtcp_packet))?.toString('hex')).toBe(known.srtcp.rtcp_plaintext);
  });
});
