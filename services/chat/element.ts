import { join } from 'node:path';
import { checkStrict } from '@imslab/element-kit';
import { CONTROL_PORT, SIP_PORT, defineKind, type PlannedElement } from '@imslab/topology';
import { ChatConfigSchema, type ChatConfigInput } from './src/config.ts';
import { CHAT_MSRP_PORT, KEYLOG_FILE, STORE_DIR } from './src/contract.ts';
import { CHAT_FACTORY_USER } from './src/rooms.ts';

/**
 * The chat server (TR 33.828 4.4, RFC 7701 style): one room per IM group of
 * the subscriber file (`imGroups`, `sip:chat-<group>@<domain>`), and ad-hoc
 * rooms made through the factory URI `sip:chat-factory@<domain>`; members join
 * with an INVITE offering MSRP over TLS and reach the server through the MSRP
 * relay. The server terminates TLS (its testbed certificate), stores every
 * message in the clear and re-sends it to the other participants: each link
 * is protected, the server reads everything.
 */
export interface ChatRoomSpec {
  /** Request-URI user part, chat-<group>. */
  user: string;
  /** Member user names (subscribers). */
  members: string[];
}

export interface ChatPlan extends PlannedElement {
  kind: 'chat';
  address: string;
  domain: string;
  rooms: ChatRoomSpec[];
}

const HOST = 92;

export const chat = defineKind<ChatPlan>()({
  kind: 'chat',
  summary: 'chat server: rooms sip:chat-<group> (RFC 7701 style), MSRP over TLS terminated at the server, messages stored in the clear and re-sent to the other participants',
  presence: 'on-demand',
  stage: 0,
  image: { name: 'chat', node: { service: 'chat' } },
  leaves: 'logs',
  certificate: true,
  plan(ctx) {
    const address = ctx.at('core', HOST);
    // Member names were checked against the subscribers when the subscriber file loaded.
    const rooms = ctx.imGroups.map((g) => ({ user: `chat-${g.name}`, members: g.members }));
    return [{ kind: 'chat', name: 'chat', addresses: { core: address }, address, domain: ctx.domain, rooms }];
  },
  render(e, p) {
    const cfg: ChatConfigInput = {
      name: e.name, address: e.address, sipPort: SIP_PORT, controlPort: CONTROL_PORT, domain: e.domain,
      msrp: {
        port: CHAT_MSRP_PORT,
        tls: { caFile: join(p.pkiDir, 'ca.pem'), certFile: join(p.pkiDir, `${e.name}.pem`), keyFile: join(p.pkiDir, `${e.name}.key`) },
        // In the run directory (logs/ after the run), where the message analysis finds `*tls-keys.log`.
        keylogFile: join(p.runDir, KEYLOG_FILE),
      },
      rooms: e.rooms.map((r) => ({ user: r.user, members: r.members.map((m) => `sip:${m}@${e.domain}`) })),
      // In the run directory (logs/chat-store/ after the run), where the run's store scan reads it.
      store: { dir: join(p.runDir, STORE_DIR) },
    };
    checkStrict(ChatConfigSchema, cfg, `${e.name} chat.json`);
    return { files: { 'chat.json': JSON.stringify(cfg, null, 2) + '\n' }, command: [...p.nodeCommand, p.serviceEntry('chat'), '--config', join(p.configDir, 'chat.json')] };
  },
  listens: (e) => [
    { element: e.name, address: e.address, port: SIP_PORT, protocol: 'udp' },
    { element: e.name, address: e.address, port: CHAT_MSRP_PORT, protocol: 'tcp' },
    { element: e.name, address: e.address, port: CONTROL_PORT, protocol: 'tcp' },
  ],
  readiness: (e) => ({ type: 'http', url: `http://${e.address}:${CONTROL_PORT}/health` }),
  controlUrl: (e) => `http://${e.address}:${CONTROL_PORT}`,
  // The factory too; its ad-hoc rooms (chat-adhoc-<n>) reach us by the S-CSCF's prefix rule.
  sipRoutes: (e) => Object.fromEntries([...e.rooms.map((r) => r.user), CHAT_FACTORY_USER].map((u) => [u, e.address])),
});
