/**
 * The one error the KMS client throws. A refusal by the KMS carries the HTTP
 * status and the KMS's own `{ error, code }`; a KMS that cannot be reached
 * (refused, timed out, certificate not trusted) has `status: null`, so a
 * caller can tell "the KMS said no" from "there was no answer".
 */
export class KmsError extends Error {
  override name = 'KmsError';
  /** HTTP status of the KMS's refusal; null when no HTTP answer arrived (unreachable, timeout, TLS failure, closed client). */
  readonly status: number | null;
  /** Short machine-readable code: the KMS's `code`, or `unreachable`, `timeout`, `tls`, `closed`, `bad-response`. */
  readonly code: string;
  /** What went wrong, for a human: the KMS's `error` text or the transport failure. */
  readonly reason: string;

  constructor(status: number | null, code: string, reason: string, where: string) {
    super(status === null ? `KMS ${where}: ${reason} (${code})` : `KMS ${where} refused with ${status} ${code}: ${reason}`);
    this.status = status;
    this.code = code;
    this.reason = reason;
  }
}

/** The client options are unusable (bad URL, unreadable CA file); thrown by the constructor. */
export class KmsClientOptionsError extends Error {
  override name = 'KmsClientOptionsError';
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`KmsClient option '${option}': ${problem}`);
  }
}
