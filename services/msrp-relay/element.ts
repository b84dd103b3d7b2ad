import { join } from 'node:path';
import { checkStrict, strictObject } from '@imslab/element-kit';
import { KAMAILIO_IMAGE, ipValue, kamailioCommand, kamailioString, kamailioTlsCfg, nameValue } from '@imslab/kamailio';
import { SIP_PORT, defineKind, fillTemplate, serviceFile, type PlannedElement, type Subscriber } from '@imslab/topology';
import { z } from 'zod';

/**
 * The MSRP relay (RFC 4976): Kamailio's msrp module (Debian's kamailio
 * package, the image of the P-CSCFs and the S-CSCF) with
 * services/msrp-relay/kamailio.cfg. MSRP over TLS only; a client AUTHs with
 * Digest (the subscriber's credentials of config/subscribers.yaml, realm =
 * the IMS domain) and gets a Use-Path on the relay; SENDs and REPORTs are
 * relayed hop by hop on the connections the clients opened.
 *
 * The relay is the TLS endpoint of every leg: it reads every MSRP message in
 * the clear (the protection is hop by hop, not end to end). Kamailio 5.6.3's
 * tls module writes no key log (no keylog option, and OpenSSL reads no
 * SSLKEYLOGFILE), so the relay contributes no key-log evidence: a leg is
 * decrypted with the key log of the client at its other end. A hop from the
 * relay to itself (both users AUTHed here: Alice's session on its access-a
 * address, Bob's on its access-b address) has no client key log at all: on
 * Docker it stays inside the container; on the local target it is a TLS
 * connection from 127.0.0.1 to the relay's address of the second session,
 * which the capture of that link holds, opaque.
 */
export interface MsrpRelayPlan extends PlannedElement {
  kind: 'msrp-relay';
  /** Core address: the SIP OPTIONS listener (readiness) and an MSRPS listener. */
  address: string;
  /** The relay also listens on each access network, where the UEs reach it (Docker networks do not route). */
  accessAddresses: string[];
  /** The Digest realm of AUTH. */
  domain: string;
  subscribers: Subscriber[];
}

/** Host number of the MSRP relay on every network (below the devices' 50..250). */
export const MSRP_RELAY_HOST = 45;
/** The relay's MSRPS port on every address (RFC 4975's registered port). */
export const MSRP_RELAY_PORT = 2855;

/** Kamailio statements, one per line; built from typed data, never from free text. */
const credentials = z.string().regex(/^(\t# none|(\t\$sht\(cred=>[a-z0-9-]+\) = "(?:[^"\\]|\\.)*";\n?)+)$/, 'must be htable assignments');
const listens = z.string().regex(/^(listen=tls:\d{1,3}(\.\d{1,3}){3}:\d{1,5}\n?)+$/, 'must be TLS listen lines');
const CfgValues = strictObject({
  NAME: nameValue, LISTEN: listens, CORE_IP: ipValue, SIP_PORT: z.string().regex(/^\d{1,5}$/), TLS_CFG: z.string().min(1), REALM: z.string().regex(/^[a-z0-9.-]+$/), CREDENTIALS: credentials,
}, 'MSRP relay template values');

/** Every address an MSRP relay listens on with MSRPS: the core first, then the access networks. */
export function relayAddresses(e: MsrpRelayPlan): string[] {
  return [e.address, ...e.accessAddresses];
}

export const msrpRelay = defineKind<MsrpRelayPlan>()({
  kind: 'msrp-relay',
  summary: 'MSRP relay (RFC 4976): Kamailio msrp module, MSRP over TLS, AUTH with Digest and Use-Path, SEND/REPORT relayed hop by hop (the relay reads the plaintext)',
  presence: 'on-demand',
  stage: 0,
  image: KAMAILIO_IMAGE,
  leaves: 'logs',
  certificate: true,
  plan(ctx) {
    const access = [ctx.at('access-a', MSRP_RELAY_HOST), ctx.at('access-b', MSRP_RELAY_HOST)];
    return [{
      kind: 'msrp-relay', name: 'msrp-relay',
      addresses: { 'access-a': access[0]!, core: ctx.at('core', MSRP_RELAY_HOST), 'access-b': access[1]! },
      address: ctx.at('core', MSRP_RELAY_HOST), accessAddresses: access, domain: ctx.domain, subscribers: ctx.subscribers,
    }];
  },
  render(e, p) {
    const creds = e.subscribers.map((s) => `\t$sht(cred=>${s.user}) = ${kamailioString(s.password)};`);
    const values = checkStrict(CfgValues, {
      NAME: e.name,
      LISTEN: relayAddresses(e).map((a) => `listen=tls:${a}:${MSRP_RELAY_PORT}`).join('\n'),
      CORE_IP: e.address, SIP_PORT: String(SIP_PORT),
      TLS_CFG: join(p.configDir, 'tls.cfg'), REALM: e.domain, CREDENTIALS: creds.join('\n') || '\t# none',
    }, `${e.name} kamailio.cfg values`);
    return {
      files: {
        'kamailio.cfg': fillTemplate(serviceFile('msrp-relay', 'kamailio.cfg'), values, `${e.name} kamailio.cfg`),
        'tls.cfg': kamailioTlsCfg('msrp-relay', e.name, p),
      },
      command: kamailioCommand(e.name, p),
    };
  },
  listens: (e) => [
    ...relayAddresses(e).map((a) => ({ element: e.name, address: a, port: MSRP_RELAY_PORT, protocol: 'tcp' as const })),
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
  ],
  readiness: (e) => ({ type: 'sip-options', address: e.address, port: SIP_PORT }),
});
