import type { VoicemailAttack } from './config.ts';
import type { MessageMeta } from './store.ts';

/** What a compromised voicemail plays when `asked` is retrieved (issue 13): the description it announces and the message whose packets go out. */
export interface Swap {
  /** Announced as the asked-for message (its id and `from`), with the key material actually sent. */
  meta: MessageMeta;
  /** The message whose stored packets are played. */
  played: MessageMeta;
  /** One line for the log and the playback record. */
  note: string;
}

/**
 * The swap for a retrieval of `asked`, or null when the mailbox holds no
 * other whole message to play instead (the attack then does nothing). The
 * substitute is the newest other message: the one a retriever asking for
 * the oldest is least likely to have heard.
 */
export function swapFor(attack: VoicemailAttack, asked: MessageMeta, mailbox: readonly MessageMeta[]): Swap | null {
  const other = mailbox.filter((m) => m.id !== asked.id && m.state !== 'recording' && m.protection === asked.protection).at(-1);
  if (!other) return null;
  if (attack === 'swap-packets') {
    // The asked-for TRANSFER_INIT, another message's SRTP: the retriever's key cannot open it.
    return { meta: asked, played: other, note: `ATTACK swap-packets: played message ${other.id}'s packets (from ${other.from}) under message ${asked.id}'s key material (from ${asked.from})` };
  }
  // The whole other message, announced as the asked-for one: only the KMS-authenticated depositor tells.
  return { meta: { ...asked, keyMgmt: other.keyMgmt }, played: other, note: `ATTACK swap-message: played message ${other.id} (from ${other.from}) whole, announced as message ${asked.id} from ${asked.from}` };
}
