/**
 * What can be wrong with bytes handed to this package, and the errors it
 * throws. Parsing never throws: a malformed packet is an {@link RtpProblem}
 * value, because captures and sockets deliver arbitrary bytes and the callers
 * count them rather than fail. Only the `from`-style entry points (for
 * callers that treat a malformed packet as a bug) and the builders (which are
 * given field values by code, not by the network) throw, and only the named
 * errors below.
 */

/**
 * Why bytes are not an RTP packet (RFC 3550 sec. 5.1, 5.3.1):
 * - `too-short`: fewer than the 12 octets of the fixed header;
 * - `bad-version`: the version field is not 2;
 * - `truncated-csrc`: the CSRC list the CC field announces runs past the end;
 * - `truncated-extension`: the header extension (X bit) runs past the end;
 * - `bad-padding`: the P bit is set but the padding count (last octet) is 0
 *   or more than the octets after the header.
 */
export type RtpProblem = 'too-short' | 'bad-version' | 'truncated-csrc' | 'truncated-extension' | 'bad-padding';

const PROBLEM_TEXT: { readonly [P in RtpProblem]: string } = {
  'too-short': 'shorter than the 12-octet RTP fixed header (RFC 3550 sec. 5.1)',
  'bad-version': 'version field is not 2 (RFC 3550 sec. 5.1)',
  'truncated-csrc': 'the CSRC list announced by the CC field runs past the end of the packet (RFC 3550 sec. 5.1)',
  'truncated-extension': 'the header extension announced by the X bit runs past the end of the packet (RFC 3550 sec. 5.3.1)',
  'bad-padding': 'the P bit is set but the padding count in the last octet is 0 or larger than the payload (RFC 3550 sec. 5.1)',
};

/** A sentence saying what an {@link RtpProblem} means, with the RFC section. */
export function describeRtpProblem(problem: RtpProblem): string {
  return PROBLEM_TEXT[problem];
}

/** Base class of every error this package throws. */
export class RtpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes that had to be an RTP packet are not one; `problem` says why. */
export class RtpFormatError extends RtpError {
  readonly problem: RtpProblem;
  /** Length of the offending packet in octets. */
  readonly length: number;

  constructor(problem: RtpProblem, length: number) {
    super(`not an RTP packet (${length} octets): ${describeRtpProblem(problem)}`);
    this.problem = problem;
    this.length = length;
  }
}

/** A builder was given a field value the header cannot carry (e.g. payload type 128, 16 CSRCs). */
export class RtpBuildError extends RtpError {
  /** Name of the offending field, e.g. `payloadType`, `csrcs`. */
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, detail: string) {
    super(`${field}=${String(value)}: ${detail}`);
    this.field = field;
    this.value = value;
  }
}
