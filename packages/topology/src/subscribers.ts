import { loadYamlStrict, strictObject } from '@imslab/element-kit';
import { z } from 'zod';
import { ACCESS_NETWORKS } from './networks.ts';

/**
 * The one file every element's configuration is generated from
 * (`config/subscribers.yaml`): the IMS domain, the subscribers with their
 * devices, credentials and forwarding rules, and operator policy per P-CSCF.
 */

const NAME = /^[a-z][a-z0-9-]{0,30}$/;
const SIP_URI = /^sips?:[^\s"<>]+$/;
const sipUri = z.string().regex(SIP_URI, 'expected a SIP URI such as sip:voicemail@ims.test');

export const E2AE_POLICIES = ['allow', 'forbid'] as const;
export type E2aePolicy = (typeof E2AE_POLICIES)[number];

/** Call forwarding at the S-CSCF (TR 33.828 4.1.1 forwarding, 4.1.2 deferred delivery). */
export const ForwardingSchema = strictObject({
  /** Target URI for every call. */
  unconditional: sipUri.optional(),
  /** Target URI when no device answers within `seconds`. */
  noAnswer: strictObject({ to: sipUri, seconds: z.number().min(1).max(120) }, 'noAnswer').optional(),
  /** Target URI when the user is busy (486/600). */
  busy: sipUri.optional(),
}, 'forwarding');
export type Forwarding = z.output<typeof ForwardingSchema>;

export const DeviceSchema = strictObject({
  /** Element name of the UE, unique in the network (e.g. `bob-1`). */
  name: z.string().regex(NAME, 'expected a lower-case name (letters, digits, -)'),
  /** Host part of its address on the subscriber's access network (lower hosts are the network elements). */
  host: z.number().int().min(50).max(250),
  autoAnswer: z.boolean().default(true),
  /**
   * A UA of the user's own (a softphone): planned like any device (its
   * address, its user's credentials at the S-CSCF, a secret at the KMS) and
   * named in reports, but nothing starts it.
   */
  external: z.boolean().default(false),
}, 'a device');
export type Device = z.output<typeof DeviceSchema>;

export const SubscriberSchema = strictObject({
  user: z.string().regex(NAME, 'expected a lower-case user name (letters, digits, -)'),
  displayName: z.string().optional(),
  password: z.string().min(1),
  network: z.enum(ACCESS_NETWORKS as ['access-a', 'access-b']),
  devices: z.array(DeviceSchema).min(1, 'expected at least one device'),
  forwarding: ForwardingSchema.default({}),
}, 'a subscriber').transform((s) => ({ ...s, displayName: s.displayName ?? s.user }));
export type Subscriber = z.output<typeof SubscriberSchema>;

/**
 * A pre-arranged PoC group (TR 33.828 4.2): members join its group session
 * with an INVITE to `sip:poc-<name>@<domain>`. `e2e`: one group key, the
 * PoC server forwards the floor holder's SRTP unchanged and holds no key;
 * `e2m2e`: each member keys its leg with the server (SDES), the server
 * decrypts the holder's burst and re-encrypts it for each listener.
 */
export const PocGroupSchema = strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'expected a lower-case group name (letters, digits, -); the URI is sip:poc-<name>@<domain>'),
  mode: z.enum(['e2e', 'e2m2e']),
  /** User names of the subscribers that are members. */
  members: z.array(z.string()).min(1, 'expected at least one member'),
  /** A floor request while the floor is taken: denied, or queued until the floor frees (TS 24.380 clause 6.3). */
  contention: z.enum(['deny', 'queue']).default('deny'),
}, 'a PoC group');
export type PocGroup = z.output<typeof PocGroupSchema>;

export const ImGroupSchema = strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,30}$/, 'expected a lower-case group name (letters, digits, -); the URI is sip:im-<name>@<domain>'),
  /** User names of the subscribers that are members. */
  members: z.array(z.string()).min(1, 'expected at least one member'),
}, 'an IM group');
export type ImGroup = z.output<typeof ImGroupSchema>;

const PcscfPolicy = strictObject({ e2ae: z.enum(E2AE_POLICIES).default('allow') }, 'a P-CSCF policy');

export const SubscriberFileSchema = strictObject({
  domain: z.string().regex(/^[a-z0-9.-]+$/, 'expected a domain name such as ims.test'),
  subscribers: z.array(SubscriberSchema).min(1, 'expected a non-empty list'),
  /** Operator policy at each P-CSCF: may it apply end-to-access-edge protection (TS 33.328)? */
  policy: strictObject({ 'pcscf-a': PcscfPolicy.default({ e2ae: 'allow' }), 'pcscf-b': PcscfPolicy.default({ e2ae: 'allow' }) }, 'policy')
    .default({ 'pcscf-a': { e2ae: 'allow' }, 'pcscf-b': { e2ae: 'allow' } }),
  /** Pre-arranged PoC groups (TR 33.828 4.2), served by the PoC server when a scenario runs it. */
  pocGroups: z.array(PocGroupSchema).default([]),
  /** IM groups (TR 33.828 4.3), served by the IM server (sip:im-<name>@<domain>) when a scenario runs it. */
  imGroups: z.array(ImGroupSchema).default([]),
}, 'the subscriber file').superRefine((f, ctx) => {
  const names = new Map<string, string>();
  const hosts = new Map<string, string>();
  f.subscribers.forEach((s, i) => s.devices.forEach((d, j) => {
    const path = ['subscribers', i, 'devices', j];
    if (names.has(d.name)) ctx.addIssue({ code: 'custom', path: [...path, 'name'], message: `device name "${d.name}" is used twice (also ${names.get(d.name)})` });
    names.set(d.name, `subscribers[${i}].devices[${j}]`);
    const h = `${s.network}/${d.host}`;
    if (hosts.has(h)) ctx.addIssue({ code: 'custom', path: [...path, 'host'], message: `host ${d.host} on ${s.network} is used twice (also ${hosts.get(h)})` });
    hosts.set(h, `subscribers[${i}].devices[${j}]`);
  }));
  const users = new Set<string>();
  f.subscribers.forEach((s, i) => {
    if (users.has(s.user)) ctx.addIssue({ code: 'custom', path: ['subscribers', i, 'user'], message: `user "${s.user}" is listed twice` });
    users.add(s.user);
  });
  const groups = new Set<string>();
  f.pocGroups.forEach((g, i) => {
    if (groups.has(g.name)) ctx.addIssue({ code: 'custom', path: ['pocGroups', i, 'name'], message: `PoC group "${g.name}" is listed twice` });
    groups.add(g.name);
    g.members.forEach((m, j) => {
      if (!users.has(m)) ctx.addIssue({ code: 'custom', path: ['pocGroups', i, 'members', j], message: `"${m}" is not a subscriber; users: ${[...users].join(', ')}` });
    });
  });
  const imGroups = new Set<string>();
  f.imGroups.forEach((g, i) => {
    if (imGroups.has(g.name)) ctx.addIssue({ code: 'custom', path: ['imGroups', i, 'name'], message: `IM group "${g.name}" is listed twice` });
    imGroups.add(g.name);
    g.members.forEach((m, j) => {
      if (!users.has(m)) ctx.addIssue({ code: 'custom', path: ['imGroups', i, 'members', j], message: `"${m}" is not a subscriber; users: ${[...users].join(', ')}` });
    });
  });
});
export type SubscriberFile = z.output<typeof SubscriberFileSchema>;

/** Reads and checks a subscriber file; errors carry `file:line:column`. */
export function loadSubscribers(path: string, base?: string): SubscriberFile {
  return loadYamlStrict(SubscriberFileSchema, path, base);
}
