import { forgedTransferInit } from './forged-ticket.ts';

/**
 * What a compromised P-CSCF does in a negative scenario (issue 13): the
 * attacks a scenario may name (`network: { attacks: { pcscf-a: ... } }`)
 * and the Kamailio fragments that carry them out, filled into
 * services/pcscf/kamailio.cfg.
 */
export const PCSCF_ATTACKS = ['tamper-key-mgmt', 'strip-sdes', 'strip-key-mgmt', 'replay-key-mgmt', 'substitute-sdes', 'strip-mediasec', 'strip-3ge2ae', 'replay-transfer-resp', 'forge-ticket'] as const;
export type PcscfAttack = (typeof PCSCF_ATTACKS)[number];

/** Attacks on the answer coming back from the core to our UE (route[ATTACK_ANSWER], in reply_route). */
type AnswerAttack = 'replay-transfer-resp';

/**
 * Kamailio fragments for the faults a P-CSCF can inject (route[ATTACK]: a
 * UE's initial INVITE with SDP, and its REGISTER). tamper-key-mgmt
 * swaps the 61st base64 character of the MIKEY message, so the ticket's bytes
 * change but the SDP stays well-formed: what a compromised hop could do.
 */
const OFFER_ATTACKS: Record<Exclude<PcscfAttack, AnswerAttack | 'forge-ticket'>, string> = {
  'tamper-key-mgmt': [
    '\tif (!search_body("a=key-mgmt:mikey ")) return;',
    '\tif (!subst_body("/(a=key-mgmt:mikey [A-Za-z0-9+\\/]{60})A/\\1B/")) {',
    '\t\tsubst_body("/(a=key-mgmt:mikey [A-Za-z0-9+\\/]{60})[B-Za-z0-9+\\/]/\\1A/");',
    '\t}',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: tampered with the MIKEY message of call $ci\\n");',
  ].join('\n'),
  // A downgrade (TR 33.828 4.1.1): SDES keys and the SRTP profile removed from the offer, so the far end answers RTP/AVP.
  'strip-sdes': [
    '\tif (!search_body("a=crypto:")) return;',
    '\tsdp_remove_line_by_prefix("a=crypto");',
    '\tsubst_body("/RTP\\/SAVP/RTP\\/AVP/g");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: stripped a=crypto and RTP/SAVP from the offer of call $ci\\n");',
  ].join('\n'),
  // The same downgrade against MIKEY-TICKET: the ticket (a=key-mgmt) and the SRTP profile removed.
  'strip-key-mgmt': [
    '\tif (!search_body("a=key-mgmt:")) return;',
    '\tsdp_remove_line_by_prefix("a=key-mgmt");',
    '\tsubst_body("/RTP\\/SAVP/RTP\\/AVP/g");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: stripped a=key-mgmt and RTP/SAVP from the offer of call $ci\\n");',
  ].join('\n'),
  // A replay: the first MIKEY offer seen is kept, and put in place of every later one.
  'replay-key-mgmt': [
    '\tif (!search_body("a=key-mgmt:mikey ")) return;',
    '\tif ($sht(attack=>mikey) == $null) {',
    '\t\t$sht(attack=>mikey) = $(rb{line.sw,a=key-mgmt}{s.trim});',
    '\t\txlog("L_WARN", "ATTACK: recorded the MIKEY message of call $ci to replay it\\n");',
    '\t\treturn;',
    '\t}',
    '\tsubst_body("/a=key-mgmt:mikey [A-Za-z0-9+\\/=]+/$sht(attack=>mikey)/");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: replayed the recorded MIKEY message into the offer of call $ci\\n");',
  ].join('\n'),
  // A rogue P-CSCF reading SDES media (TR 33.828 4.1.1): its IMS-AGW re-encrypts under keys of its own (route[SUBSTITUTE_SDES]).
  'substitute-sdes': [
    '\tif (!search_body("a=crypto:")) return;',
    '\troute(SUBSTITUTE_SDES);',
  ].join('\n'),
  // A bidding-down of e2ae (TS 33.328, TR 33.828 4.1.4): the UE's sdes-srtp;mediasec is ignored at registration, so no Security-Server confirms it.
  'strip-mediasec': [
    '\tif (!is_method("REGISTER") || $avp(mediasec) != 1) return;',
    '\t$avp(mediasec) = 0;',
    '\txlog("L_WARN", "ATTACK: ignored mediasec in the Security-Client of $si: e2ae not confirmed\\n");',
  ].join('\n'),
  // The e2ae request (a=3ge2ae:requested, TS 24.229 7.5.2) removed from the offer: the P-CSCF relays the UE's SDES key into the core.
  'strip-3ge2ae': [
    '\tif (!search_body("a=3ge2ae:")) return;',
    '\tsdp_remove_line_by_prefix("a=3ge2ae");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: stripped a=3ge2ae from the offer of call $ci\\n");',
  ].join('\n'),
};

/**
 * MIKEY-TICKET's answer replayed (RFC 6043 sec. 4.2.2): the first TRANSFER_RESP
 * (the callee's a=key-mgmt in its 2xx) seen on its way to our UE is kept and
 * put in place of every later one. The caller checks a TRANSFER_RESP against
 * the keys of its own call (its MAC, and the RAND and timestamps it sent),
 * so an old one must be refused.
 */
const ANSWER_ATTACKS: Record<AnswerAttack, string> = {
  'replay-transfer-resp': [
    '\tif (!search_body("a=key-mgmt:mikey ")) return;',
    '\tif ($sht(attack=>resp) == $null) {',
    '\t\t$sht(attack=>resp) = $(rb{line.sw,a=key-mgmt}{s.trim});',
    '\t\txlog("L_WARN", "ATTACK: recorded the MIKEY answer of call $ci to replay it\\n");',
    '\t\treturn;',
    '\t}',
    '\tsubst_body("/a=key-mgmt:mikey [A-Za-z0-9+\\/=]+/$sht(attack=>resp)/");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: replayed the recorded MIKEY answer into the 2xx of call $ci\\n");',
  ].join('\n'),
};

const isAnswerAttack = (a: PcscfAttack): a is AnswerAttack => a in ANSWER_ATTACKS;

/**
 * A forged ticket (forged-ticket.ts) in place of the caller's MIKEY message:
 * alice's to bob of this network's domain (the scenario's call), built when
 * the configuration is rendered.
 */
function forgeTicket(domain: string): string {
  const forged = forgedTransferInit(`sip:alice@${domain}`, `sip:bob@${domain}`);
  // Through a variable: the base64 holds '/', which would end a literal subst expression.
  return [
    '\tif (!search_body("a=key-mgmt:mikey ")) return;',
    `\t$var(forged) = "a=key-mgmt:mikey ${forged}";`,
    '\tsubst_body("/a=key-mgmt:mikey [A-Za-z0-9+\\/=]+/$var(forged)/");',
    '\tmsg_apply_changes();',
    '\txlog("L_WARN", "ATTACK: put a ticket of our own making into the offer of call $ci\\n");',
  ].join('\n');
}

/** The two attack routes of kamailio.cfg for `attack`: its fragment in one, a bare return in the other. */
export function attackFragments(attack: PcscfAttack | null, domain: string): { ATTACK: string; ATTACK_ANSWER: string } {
  const none = '\treturn;';
  if (!attack) return { ATTACK: none, ATTACK_ANSWER: none };
  if (attack === 'forge-ticket') return { ATTACK: forgeTicket(domain), ATTACK_ANSWER: none };
  return isAnswerAttack(attack) ? { ATTACK: none, ATTACK_ANSWER: ANSWER_ATTACKS[attack] } : { ATTACK: OFFER_ATTACKS[attack], ATTACK_ANSWER: none };
}
