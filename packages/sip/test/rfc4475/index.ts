/**
 * The torture messages of RFC 4475 (R. Sparks, Ed., et al., "Session
 * Initiation Protocol (SIP) Torture Test Messages", IETF, May 2006), one
 * `<name>.sip` file each, byte for byte as the RFC's Appendix A archive has
 * them: CRLF line ends, the `<hex>` octets and `<allOneLine>` lines resolved.
 *
 * Provenance: the 25 of ../shared/vectors/rfc4475 (their sha256 checked
 * against its index.json before copying) and 24 written from the RFC's
 * text. `test.sip` is the 50th file of the RFC's archive: no section
 * describes it (an authors' leftover), so nothing here says what it must do
 * beyond not breaking anything; it is malformed twice over.
 *
 * `parser` is what `parseMessage` must return; `ua` is what a user agent
 * (a UAS that is no registrar and no proxy) answers over UDP. Each `rule`
 * quotes or paraphrases the RFC paragraph it comes from.
 */
import { readFileSync } from 'node:fs';

/** What the parser does with a message. */
export type ParserVerdict =
  /** Parses (and validates): the RFC calls it well formed, or lets an element accept it. */
  | { accept: true }
  /**
   * An error value with this status. `partial`: the headers still parsed, so
   * a UAS can answer (false when not even the start line or the framing is usable).
   */
  | { accept: false; status: 400 | 505; partial: boolean };

/** What a UA does with a message received over UDP. */
export type UaVerdict =
  /** A final response with this status (a 100 may come first). */
  | { answer: number }
  /** Processes it as a call: 100/180, then the test CANCELs it (487). */
  | { answer: 'call' }
  /** Answers nothing (a response it never asked for, or a datagram with no usable start line). */
  | { answer: 'none' };

export interface Rfc4475Message {
  name: string;
  /** RFC 4475 section; null for the archive's extra file. */
  section: string | null;
  title: string;
  /** True when RFC 3261's grammar admits it (3.1.1, 3.2, 3.3, 3.4), false for 3.1.2. */
  valid: boolean;
  parser: ParserVerdict;
  ua: UaVerdict;
  rule: string;
}

const A = { accept: true } as const;
const R = (status: 400 | 505, partial = true) => ({ accept: false, status, partial }) as const;

export const RFC4475: readonly Rfc4475Message[] = [
  // 3.1.1 Valid messages
  { name: 'wsinv', section: '3.1.1.1', title: 'A Short Tortuous INVITE', valid: true, parser: A, ua: { answer: 481 }, rule: 'All elements should treat this as a well-formed request. Its To has a tag, so to a UA it is a request inside a dialog it does not have: 481 (RFC 3261 sec. 12.2.2).' },
  { name: 'intmeth', section: '3.1.1.2', title: 'Wide Range of Valid Characters', valid: true, parser: A, ua: { answer: 501 }, rule: 'Endpoints will generate a 501 listing the methods they understand in an Allow header field. (The To display name holds quoted-pair BEL, NUL and DEL.)' },
  { name: 'esc01', section: '3.1.1.3', title: 'Valid Use of the % Escaping Mechanism', valid: true, parser: A, ua: { answer: 'call' }, rule: 'A parser must accept this as a well-formed message; % HEX HEX is unescaped only where "escaped" is in the grammar.' },
  { name: 'escnull', section: '3.1.1.4', title: 'Escaped Nulls in URIs', valid: true, parser: A, ua: { answer: 405 }, rule: 'Parsers must accept this message. A UA that is no registrar answers a REGISTER 405 (the 3.3.7 rule for endpoints).' },
  { name: 'esc02', section: '3.1.1.5', title: 'Use of % When It Is Not an Escape', valid: true, parser: A, ua: { answer: 501 }, rule: 'A parser should accept this message as well formed. An endpoint would reject this message with a 501.' },
  { name: 'lwsdisp', section: '3.1.1.6', title: 'Message with No LWS between Display Name and <', valid: true, parser: A, ua: { answer: 200 }, rule: 'Elements should accept this request as well formed (a known bug in the RFC 3261 grammar).' },
  { name: 'longreq', section: '3.1.1.7', title: 'Long Values in Header Fields', valid: true, parser: A, ua: { answer: 'call' }, rule: 'A parser must accept this message (long values, 34 Via values in every case of Via/v).' },
  { name: 'dblreq', section: '3.1.1.8', title: 'Extra Trailing Octets in a UDP Datagram', valid: true, parser: A, ua: { answer: 405 }, rule: 'The octets after the REGISTER look like an INVITE but are noise that must be ignored (RFC 3261 sec. 18.3); the REGISTER is handled normally.' },
  { name: 'semiuri', section: '3.1.1.9', title: 'Semicolon-Separated Parameters in URI User Part', valid: true, parser: A, ua: { answer: 200 }, rule: 'The Request-URI parses so that the user part is "user;par=u@example.net".' },
  { name: 'transports', section: '3.1.1.10', title: 'Varied and Unknown Transport Types', valid: true, parser: A, ua: { answer: 200 }, rule: 'Parsers must accept this message as well formed (SCTP, TLS, UNKNOWN, TCP in the Via values below the top one).' },
  { name: 'mpart01', section: '3.1.1.11', title: 'Multipart MIME Message', valid: true, parser: A, ua: { answer: 415 }, rule: 'Parsers must accept this message as well formed, even if the application does not support the multipart body; the binary part with NUL octets must be framed intact. (This UA reads no multipart MESSAGE body: 415.)' },
  { name: 'unreason', section: '3.1.1.12', title: 'Unusual Reason Phrase', valid: true, parser: A, ua: { answer: 'none' }, rule: 'A parser must accept this response (UTF-8 reason phrase). It matches nothing the UA sent: dropped.' },
  { name: 'noreason', section: '3.1.1.13', title: 'Empty Reason Phrase', valid: true, parser: A, ua: { answer: 'none' }, rule: 'A parser must accept this message; the SP after the code is required. It matches nothing the UA sent: dropped.' },
  // 3.1.2 Invalid messages
  { name: 'badinv01', section: '3.1.2.1', title: 'Extraneous Header Field Separators', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'An element receiving this request should respond with a 400 Bad Request error.' },
  { name: 'clerr', section: '3.1.2.2', title: 'Content Length Larger Than Message', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'Over UDP the element should respond 400; over a stream it waits for the rest and closes the connection on a timeout.' },
  { name: 'ncl', section: '3.1.2.3', title: 'Negative Content-Length', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'Respond with an error; over UDP the rest of the datagram is discarded, over TCP the framing error is not recoverable: close the connection.' },
  { name: 'scalar02', section: '3.1.2.4', title: 'Request Scalar Fields with Overlarge Values', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'An element receiving this request should respond with a 400 Bad Request due to the CSeq error.' },
  { name: 'scalarlg', section: '3.1.2.5', title: 'Response Scalar Fields with Overlarge Values', valid: false, parser: R(400), ua: { answer: 'none' }, rule: 'An element receiving this response will simply discard it.' },
  { name: 'quotbal', section: '3.1.2.6', title: 'Unterminated Quoted String in Display Name', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'An element receiving this request should return a 400 Bad Request error.' },
  { name: 'ltgtruri', section: '3.1.2.7', title: '<> Enclosing Request-URI', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'It is reasonable always to reject a request with this error with a 400 Bad Request.' },
  { name: 'lwsruri', section: '3.1.2.8', title: 'Malformed SIP Request-URI (embedded LWS)', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'An element receiving this request should respond with a 400 Bad Request.' },
  { name: 'lwsstart', section: '3.1.2.9', title: 'Multiple SP Separating Request-Line Elements', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'It is acceptable to reject this request as malformed.' },
  { name: 'trws', section: '3.1.2.10', title: 'SP Characters at End of Request-Line', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'It is acceptable to reject this request as malformed.' },
  { name: 'escruri', section: '3.1.2.11', title: 'Escaped Headers in SIP Request-URI', valid: false, parser: A, ua: { answer: 400 }, rule: 'It is acceptable for an element to reject this request with a 400 Bad Request; an element could choose to be liberal and ignore the escaped headers. The parser is liberal (it serves proxies too, which must then strip them); the UA refuses it 400 (RFC 3261 sec. 19.1.1 allows no headers in a Request-URI).' },
  { name: 'baddate', section: '3.1.2.12', title: 'Invalid Time Zone in Date Header Field', valid: false, parser: A, ua: { answer: 'call' }, rule: 'An element should not reject it unless the Date header field is important to its processing; one that does not use Date may ignore it. Neither parser nor UA reads Date.' },
  { name: 'regbadct', section: '3.1.2.13', title: 'Failure to Enclose name-addr URI in <>', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'It is reasonable for an element receiving this request to respond with a 400 Bad Request.' },
  { name: 'badaspec', section: '3.1.2.14', title: 'Spaces within addr-spec', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'Parsers receiving this request must not break. It is reasonable to reject this request with a 400 Bad Request response.' },
  { name: 'baddn', section: '3.1.2.15', title: 'Non-token Characters in Display Name', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'It is reasonable always to reject this kind of error with a 400 Bad Request response. (The archive\'s file ends after the last header line, without the empty line.)' },
  { name: 'badvers', section: '3.1.2.16', title: 'Unknown Protocol Version', valid: false, parser: R(505), ua: { answer: 505 }, rule: 'The element should respond to the request with a 505 Version Not Supported error.' },
  { name: 'mismatch01', section: '3.1.2.17', title: 'Start Line and CSeq Method Mismatch', valid: false, parser: R(400), ua: { answer: 400 }, rule: 'Any element receiving this request will respond with a 400 Bad Request.' },
  { name: 'mismatch02', section: '3.1.2.18', title: 'Unknown Method with CSeq Method Mismatch', valid: false, parser: R(400), ua: { answer: 501 }, rule: 'Any element receiving this should respond with a 501 Not Implemented; 400 is also acceptable. The parser reports the mismatch; the UA inspects the method first (RFC 3261 sec. 8.2.1) and answers 501.' },
  { name: 'bigcode', section: '3.1.2.19', title: 'Overlarge Response Code', valid: false, parser: R(400, false), ua: { answer: 'none' }, rule: 'An element receiving this response should simply drop it.' },
  // 3.2 Transaction layer
  { name: 'badbranch', section: '3.2.1', title: 'Missing Transaction Identifier', valid: true, parser: A, ua: { answer: 200 }, rule: 'A parser must not break. An element could reject it with a 400, or fall back to the RFC 2543-style transaction identifier (this UA falls back and answers the OPTIONS).' },
  // 3.3 Application layer
  { name: 'insuf', section: '3.3.1', title: 'Missing Required Header Fields', valid: true, parser: R(400), ua: { answer: 400 }, rule: 'An element must not break because of the missing Call-ID, From and To. Ideally, it will respond with a 400 Bad Request error.' },
  { name: 'unkscm', section: '3.3.2', title: 'Request-URI with Unknown Scheme', valid: true, parser: A, ua: { answer: 416 }, rule: 'A parser must accept this as well formed. An element receiving this request will reject it with a 416 Unsupported URI Scheme; it must not route on the To header field.' },
  { name: 'novelsc', section: '3.3.3', title: 'Request-URI with Known but Atypical Scheme', valid: true, parser: A, ua: { answer: 416 }, rule: 'A parser must accept this. An element that will never accept this scheme in a Request-URI treats it as unknown: 416.' },
  { name: 'unksm2', section: '3.3.4', title: 'Unknown URI Schemes in Header Fields', valid: true, parser: A, ua: { answer: 405 }, rule: 'Parsers must not fail. A registrar would answer 400 (To must be a SIP or SIPS AOR); a UA that is no registrar answers a REGISTER 405 (3.3.7).' },
  { name: 'bext01', section: '3.3.5', title: 'Proxy-Require and Require', valid: true, parser: A, ua: { answer: 420 }, rule: 'Any element receiving this request will respond with a 420 Bad Extension, with an Unsupported header field listing the features from Require (a UAS) or Proxy-Require (a proxy).' },
  { name: 'invut', section: '3.3.6', title: 'Unknown Content-Type', valid: true, parser: A, ua: { answer: 415 }, rule: 'A parser must not fail. An endpoint receiving this request would reject it with a 415 Unsupported Media Type error.' },
  { name: 'regaut01', section: '3.3.7', title: 'Unknown Authorization Scheme', valid: true, parser: A, ua: { answer: 405 }, rule: 'A parser must not fail. Endpoints choosing not to act as registrars will simply reject the request. A 405 Method Not Allowed is appropriate.' },
  { name: 'multi01', section: '3.3.8', title: 'Multiple Values in Single Value Required Fields', valid: true, parser: R(400), ua: { answer: 400 }, rule: 'An element receiving this request would respond with a 400 Bad Request error.' },
  { name: 'mcl01', section: '3.3.9', title: 'Multiple Content-Length Values', valid: true, parser: R(400), ua: { answer: 400 }, rule: 'Equivalent to an invalid Content-Length: respond with an error; over UDP discard the rest of the datagram, over TCP close the connection.' },
  { name: 'bcast', section: '3.3.10', title: '200 OK Response with Broadcast Via Header Field Value', valid: true, parser: A, ua: { answer: 'none' }, rule: 'Parsers must not fail. An endpoint receiving this message should simply discard it; a proxy should drop it.' },
  { name: 'zeromf', section: '3.3.11', title: 'Max-Forwards of Zero', valid: true, parser: A, ua: { answer: 200 }, rule: 'A proxy answers 483. An endpoint should process the request as if the Max-Forwards field value were still positive.' },
  { name: 'cparam01', section: '3.3.12', title: 'REGISTER with a Contact Header Parameter', valid: true, parser: A, ua: { answer: 405 }, rule: 'unknownparam is a contact-param, not a url-parameter; a registrar accepts the REGISTER, a UA that is no registrar answers 405 (3.3.7).' },
  { name: 'cparam02', section: '3.3.13', title: 'REGISTER with a url-parameter', valid: true, parser: A, ua: { answer: 405 }, rule: 'unknownparam is a url-parameter of the Contact URI; a registrar accepts the REGISTER, a UA that is no registrar answers 405 (3.3.7).' },
  { name: 'regescrt', section: '3.3.14', title: 'REGISTER with a URL Escaped Header', valid: true, parser: A, ua: { answer: 405 }, rule: 'The Contact URI keeps its escaped Route header; a registrar accepts the REGISTER, a UA that is no registrar answers 405 (3.3.7).' },
  { name: 'sdp01', section: '3.3.15', title: 'Unacceptable Accept Offering', valid: true, parser: A, ua: { answer: 406 }, rule: 'Since Accept does not contain application/sdp, the response may not contain an SDP body; the recipient could respond with a 406 Not Acceptable.' },
  // 3.4 Backward compatibility
  { name: 'inv2543', section: '3.4.1', title: 'INVITE with RFC 2543 Syntax', valid: true, parser: A, ua: { answer: 400 }, rule: 'Should be accepted by RFC 3261 elements that want backward compatibility: no branch, no From tag, no Content-Length, no Max-Forwards. It also has no Contact, which RFC 3261 sec. 8.1.1.8 requires of an INVITE and sec. 12.1.1 needs for a dialog: the call logic answers 400 after its 100.' },
  // Appendix A archive only
  { name: 'test', section: null, title: '(archive only: no section describes it)', valid: false, parser: R(400, false), ua: { answer: 'none' }, rule: 'Not described by the RFC. Its Request-Line has no SIP-Version and one header line has no colon: no response can be built, the datagram is dropped.' },
];

/** The bytes of one message. */
export function rfc4475Bytes(name: string): Buffer {
  return readFileSync(new URL(`./${name}.sip`, import.meta.url));
}
