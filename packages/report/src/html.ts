/** Escaping for HTML text, attribute values and SVG text (the same five characters). */
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML/SVG content and quoted attribute values. Anything not a string is made one first. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** An id fragment safe in `id` and `href="#..."`: letters, digits, `-`, `_`. */
export function anchor(...parts: string[]): string {
  return parts.map((p) => p.replace(/[^A-Za-z0-9_-]+/g, '-')).join('--');
}

/** Cuts text to `max` characters with an ellipsis. */
export function cut(text: string, max: number): string {
  if (max <= 1) return text.length ? '…' : '';
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
