/**
 * @imslab/decrypt: evidence a person can open. A capture with every SRTP and
 * SRTCP packet under a known key replaced by the RTP and RTCP it carries
 * (every suite @imslab/srtp implements, MKI, ROC across wraps and re-keying),
 * and a WAV per decrypted G.711 stream.
 */
export { decryptCapture, wavName, type DecryptOptions, type DecryptResult, type DecryptedStream } from './decrypt-capture.ts';
export { prepareKeys, keysFromKeyLogs, keysFromCryptoAttributes, type DecryptKey, type PreparedKey, type KeyList } from './keys.ts';
export { locateUdp, replaceUdpPayload, type UdpLocation } from './udp-frame.ts';
export { ULAW_TO_LINEAR, ALAW_TO_LINEAR, g711Table, PT_PCMU, PT_PCMA, G711_SAMPLE_RATE } from './g711.ts';
export { wiresharkMediaOptions } from './wireshark-options.ts';
export { WavFile, wavHeader, WAV_HEADER_BYTES } from './wav-file.ts';
export type { StreamAudioReport } from './stream-audio.ts';
export { DecryptError, DecryptOptionsError, WavWriteError } from './errors.ts';
