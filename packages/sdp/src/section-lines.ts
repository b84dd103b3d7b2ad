/**
 * The SDP text cut into its session section and m= sections, line by line,
 * the way sdp-transform cuts it (CRLF, CR or LF; lines of the form `x=...`).
 * Two things sdp-transform does not keep come from here: the line numbers
 * (so that errors can point at a line) and the full text of `a=crypto`
 * lines, whose session parameters sdp-transform 3 cuts after the first
 * (its grammar reads one `(\S*)` there, while RFC 4568 sec. 9.1 allows
 * `*(1*WSP session-param)`).
 */

/** One line of the SDP text: 1-based line number, and the text after `x=`. */
export interface SdpLine {
  line: number;
  text: string;
}

/** What one section (session level, or one m= section) holds besides what sdp-transform reads. */
export interface RawSection {
  /** The m= line; null for the session level. */
  mLine: SdpLine | null;
  /** Values of the `a=crypto:` lines, in order (text after `a=crypto:`). */
  crypto: SdpLine[];
}

// `s`: a line may hold U+2028/U+2029, which sdp-transform keeps inside the line (its test has no `$`).
const SDP_LINE = /^([a-z])=(.*)$/s;

/** Session level first, then one entry per m= line, in order. */
export function rawSections(text: string): RawSection[] {
  const sections: RawSection[] = [{ mLine: null, crypto: [] }];
  const lines = text.split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = SDP_LINE.exec(lines[i]!);
    if (!m) continue;
    const [, type, content] = m as unknown as [string, string, string];
    if (type === 'm') sections.push({ mLine: { line: i + 1, text: content }, crypto: [] });
    else if (type === 'a' && content.startsWith('crypto:')) sections[sections.length - 1]!.crypto.push({ line: i + 1, text: content.slice('crypto:'.length) });
  }
  return sections;
}
