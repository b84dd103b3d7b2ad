/** The user part of a SIP URI (`sip:bob@ims.test;x=y` -> `bob`), lower case; null when there is none. */
export function userOf(uri: string | null): string | null {
  const m = /^<?sips?:([^@;>]+)@/i.exec(uri ?? '');
  return m ? m[1]!.toLowerCase() : null;
}

/** A parameter of a SIP URI (`sip:voicemail@ims.test;mailbox=bob` -> `bob` for `mailbox`). */
export function uriParam(uri: string, name: string): string | null {
  const m = new RegExp(`;${name}=([^;>?]+)`, 'i').exec(uri);
  return m ? decodeURIComponent(m[1]!) : null;
}
