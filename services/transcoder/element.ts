import { checkStrict, strictObject } from '@imslab/element-kit';
import type { AgwPlan } from '@imslab/ims-agw/element';
import { KAMAILIO_IMAGE, SDES_ONLY_80, ipValue, kamailioCommand, nameValue } from '@imslab/kamailio';
import { NG_PORT, SIP_PORT, TopologyError, defineKind, fillTemplate, serviceFile, type PlannedElement } from '@imslab/topology';
import { z } from 'zod';

/**
 * The transcoder: a trusted middle element in the core (TR 33.828 4.1.1
 * e2m2e). The S-CSCF routes calls to the users it serves through it; its
 * media engine (an IMS-AGW element, part of it) terminates the caller's SRTP
 * and re-encrypts toward the callee under a key of its own.
 */
export interface TranscoderPlan extends PlannedElement {
  kind: 'transcoder';
  address: string;
  /** Users whose incoming calls pass through it. */
  transcode: string[];
  media: AgwPlan;
}

const HOST = 50;
const MEDIA_HOST = 51;

const CfgValues = strictObject({
  NAME: nameValue, IP: ipValue, MEDIA: nameValue, MEDIA_NG_IP: ipValue, NG_PORT: z.string().regex(/^\d+$/), SDES_ONLY_80: z.string(),
}, 'transcoder template values');

export const transcoder = defineKind<TranscoderPlan>()({
  kind: 'transcoder',
  summary: 'transcoder: a trusted middle element (Kamailio + rtpengine) that re-encrypts under its own key (e2m2e)',
  presence: 'on-demand',
  // After its media engine (an IMS-AGW, stage 0) answers, as a P-CSCF after its own.
  stage: 1,
  overrides: {
    /** Users whose incoming calls the S-CSCF routes through the transcoder. */
    transcode: z.array(z.string()),
  },
  image: KAMAILIO_IMAGE,
  leaves: 'logs',
  plan(ctx) {
    const users = ctx.subscribers.map((s) => s.user);
    for (const u of ctx.own.transcode ?? []) {
      if (!users.includes(u)) throw new TopologyError(`transcode for unknown user; users: ${users.join(', ')}`, u);
    }
    const address = ctx.at('core', HOST);
    const mediaAddress = ctx.at('core', MEDIA_HOST);
    const media: AgwPlan = {
      kind: 'ims-agw', name: 'transcoder-media', partOf: 'transcoder', addresses: { core: mediaAddress },
      // The inner interface joins its two sessions on an address no link carries: the plaintext stays inside the element.
      accessAddress: ctx.inner(MEDIA_HOST), accessName: 'inner', coreAddress: mediaAddress, portMin: 34000, portMax: 34999,
    };
    return [{ kind: 'transcoder', name: 'transcoder', addresses: { core: address }, address, transcode: ctx.own.transcode ?? [], media }];
  },
  parts: (e) => [e.media],
  render(e, p) {
    const values = checkStrict(CfgValues, {
      NAME: e.name, IP: e.address, MEDIA: e.media.name, MEDIA_NG_IP: e.media.coreAddress, NG_PORT: String(NG_PORT), SDES_ONLY_80,
    }, `${e.name} kamailio.cfg values`);
    return { files: { 'kamailio.cfg': fillTemplate(serviceFile('transcoder', 'kamailio.cfg'), values, `${e.name} kamailio.cfg`) }, command: kamailioCommand(e.name, p) };
  },
  listens: (e) => [{ element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' }],
  readiness: (e) => ({ type: 'sip-options', address: e.address, port: SIP_PORT }),
});
