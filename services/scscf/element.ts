import { checkStrict, strictObject } from '@imslab/element-kit';
import { KAMAILIO_IMAGE, ipValue, kamailioCommand, kamailioString, nameValue } from '@imslab/kamailio';
import { transcoder } from '@imslab/transcoder/element';
import { SIP_PORT, defineKind, fillTemplate, serviceFile, type PlannedElement, type Subscriber } from '@imslab/topology';
import { z } from 'zod';

/**
 * The S-CSCF: Kamailio as registrar (digest, Service-Route, Path), parallel
 * forking to every registered device, forwarding (unconditional, no answer,
 * busy) with Diversion, P-Asserted-Identity, and routing to the application
 * servers (each server kind declares the Request-URI users it serves) and
 * through the transcoder.
 */
export interface ScscfPlan extends PlannedElement {
  kind: 'scscf';
  address: string;
  domain: string;
  subscribers: Subscriber[];
  /** Users whose incoming calls pass through the transcoder, and its address. */
  transcode: string[];
  transcoderAddress: string | null;
  /** Application servers by Request-URI user part -> address. */
  appServers: Record<string, string>;
}

/** Host number of the S-CSCF on the core. */
export const SCSCF_HOST = 20;

/** Kamailio statements, one per line; built from typed data, never from free text. */
const statements = z.string().regex(/^(\t# none|(\t\$sht\([a-z]+=>[a-z0-9-]+\) = ("(?:[^"\\]|\\.)*"|\d+);\n?)+)$/, 'must be htable assignments');
const CfgValues = strictObject({
  NAME: nameValue, IP: ipValue, DOMAIN: z.string().regex(/^[a-z0-9.-]+$/),
  CREDENTIALS: statements, FORWARDING: statements, TRANSCODER_IP: ipValue, APP_SERVERS: statements,
}, 'S-CSCF template values');

function assignments(lines: string[]): string {
  return lines.join('\n') || '\t# none';
}

export const scscf = defineKind<ScscfPlan>()({
  kind: 'scscf',
  summary: 'S-CSCF: Kamailio registrar with digest, forking, forwarding with Diversion, routing to application servers',
  presence: 'always',
  stage: 0,
  image: KAMAILIO_IMAGE,
  leaves: 'logs',
  plan(ctx) {
    const address = ctx.at('core', SCSCF_HOST);
    const tc = ctx.of(transcoder)[0];
    return [{
      kind: 'scscf', name: 'scscf', addresses: { core: address }, address, domain: ctx.domain, subscribers: ctx.subscribers,
      transcode: tc?.transcode ?? [], transcoderAddress: tc?.address ?? null, appServers: ctx.appRoutes(),
    }];
  },
  render(e, p) {
    const credentials = e.subscribers.map((s) => `\t$sht(cred=>${s.user}) = ${kamailioString(s.password)};`);
    const forwarding = e.subscribers.flatMap((s) => {
      const f = s.forwarding;
      const lines: string[] = [];
      if (f.unconditional) lines.push(`\t$sht(cfu=>${s.user}) = ${kamailioString(f.unconditional)};`);
      if (f.noAnswer) lines.push(`\t$sht(cfnr=>${s.user}) = ${kamailioString(f.noAnswer.to)};`, `\t$sht(cfnrms=>${s.user}) = ${Math.round(f.noAnswer.seconds * 1000)};`);
      if (f.busy) lines.push(`\t$sht(cfb=>${s.user}) = ${kamailioString(f.busy)};`);
      return lines;
    });
    const transcode = e.transcode.map((u) => `\t$sht(tc=>${u}) = 1;`);
    const values = checkStrict(CfgValues, {
      NAME: e.name, IP: e.address, DOMAIN: e.domain, CREDENTIALS: assignments(credentials),
      FORWARDING: assignments([...forwarding, ...transcode]),
      TRANSCODER_IP: e.transcoderAddress ?? '0.0.0.0',
      APP_SERVERS: assignments(Object.entries(e.appServers).map(([user, at]) => `\t$sht(as=>${user}) = ${kamailioString(`${at}:${SIP_PORT}`)};`)),
    }, `${e.name} kamailio.cfg values`);
    return { files: { 'kamailio.cfg': fillTemplate(serviceFile('scscf', 'kamailio.cfg'), values, `${e.name} kamailio.cfg`) }, command: kamailioCommand(e.name, p) };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'sip-options', address: e.address, port: SIP_PORT }),
});
