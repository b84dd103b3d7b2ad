/**
 * The msrp-relay element on the local target, brought up by the runner
 * (LocalTarget) from the network plan of a scenario that asks for it
 * (`network: { servers: [msrp-relay] }`): the configuration the kind renders,
 * its certificate from the testbed CA, the credentials of
 * config/subscribers.yaml, its readiness probe (SIP OPTIONS on the core).
 * Only the relay is started (the plan's other elements are not needed for
 * MSRP); two clients of @imslab/msrp take alice's and bob's planned device
 * addresses and reach the relay on their own access networks, as UEs would.
 * Alice AUTHs at the relay's access-a address, Bob at its access-b address;
 * a SEND crosses the relay (once through its own TLS listener, from one
 * session to the other) and arrives at Bob byte for byte. The captures of the
 * links, decrypted with each client's TLS key log, show the SEND on both
 * client legs: the relay is the TLS endpoint of each and holds the plaintext.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authenticate, connectMsrp, formatMsrpUri, MsrpConnectionError, MsrpSession, newSessionId, routeTo,
  type MsrpConnection, type MsrpUri, type ReceivedMessage,
} from '@imslab/msrp';
import { elementsOf, planNetwork } from '@imslab/network';
import { DEFAULT_SUBSCRIBERS, LocalTarget, PKI_DIR, acquireSlot, newRunDir } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import { MSRP_RELAY_PORT, msrpRelay } from '../element.ts';

const execFileP = promisify(execFile);
const LEASE = acquireSlot(6); // released in afterAll
const SLOT = LEASE.slot;
const subs = loadSubscribers(DEFAULT_SUBSCRIBERS);
const full = planNetwork(subs, 'local', { servers: ['msrp-relay'] }, SLOT);
const relay = elementsOf(full, msrpRelay)[0]!;
const plan = { ...full, elements: [relay] };
const device = (name: string) => full.elements.find((e) => e.name === name)!;
const password = (user: string) => subs.subscribers.find((s) => s.user === user)!.password;

const runDir = newRunDir();
const netDir = join(runDir, 'network');
const captureDir = join(runDir, 'msrp-relay-send');
const target = new LocalTarget();
const conns: MsrpConnection[] = [];
let capturing = false;
const marker = `imslab-msrp-relay-${randomBytes(6).toString('hex')}`;

interface Client {
  conn: MsrpConnection;
  localUri: MsrpUri;
  usePath: MsrpUri[];
  keylog: string;
  address: string;
  relayAddress: string;
}

/** A client at `deviceName`'s planned address on `access`, AUTHed as `user` at the relay's address there. */
async function client(user: string, deviceName: string, access: 'access-a' | 'access-b', pw = password(user)): Promise<Client> {
  const address = device(deviceName).addresses[access]!;
  const relayAddress = relay.addresses[access]!;
  const keylog = join(runDir, `${deviceName}.tls-keys.log`);
  const conn = await connectMsrp({
    host: relayAddress, port: MSRP_RELAY_PORT, localAddress: address, keylogFile: keylog,
    tls: { ca: readFileSync(join(PKI_DIR, 'ca.pem')) }, transactionTimeoutMs: 10_000,
  });
  conns.push(conn);
  const localUri: MsrpUri = { scheme: 'msrps', host: address, port: 2855, sessionId: newSessionId(), transport: 'tcp', params: [] };
  const relayUri: MsrpUri = { scheme: 'msrps', host: relayAddress, port: MSRP_RELAY_PORT, transport: 'tcp', params: [] };
  const auth = await authenticate(conn, { relayUri, localUri, credentials: { username: user, password: pw } });
  return { conn, localUri, usePath: auth.usePath, keylog, address, relayAddress };
}

beforeAll(async () => {
  await target.up(plan, { dir: netDir });
  await target.startCaptures(captureDir);
  capturing = true;
}, 60_000);

afterAll(async () => {
  for (const c of conns) c.close();
  try {
    if (capturing) await target.stopCaptures();
  } finally {
    await target.down();
    LEASE.release();
  }
}, 30_000);

describe('the msrp-relay element on the local target', () => {
  let alice: Client;
  let bob: Client;
  let aliceSession: MsrpSession;
  let bobSession: MsrpSession;
  let files: Record<string, string> = {};

  it('is planned on host 45 of every network, and answered its readiness probe', () => {
    expect(relay.addresses).toEqual({ 'access-a': `127.${SLOT}.1.45`, core: `127.${SLOT}.2.45`, 'access-b': `127.${SLOT}.3.45` });
    const cfg = readFileSync(join(netDir, 'config', 'msrp-relay', 'kamailio.cfg'), 'utf8');
    expect(cfg).toContain(`listen=tls:127.${SLOT}.1.45:${MSRP_RELAY_PORT}`);
    expect(cfg).toContain(`listen=udp:127.${SLOT}.2.45:5060`);
  });

  it('refuses AUTH with a password that is not the subscriber\'s', async () => {
    const e = await client('alice', 'alice', 'access-a', password('bob')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MsrpConnectionError);
    expect((e as MsrpConnectionError).code).toBe('auth-failed');
  });

  it('AUTH with the subscribers\' Digest credentials gives each a Use-Path on the relay address of its access network', async () => {
    alice = await client('alice', 'alice', 'access-a');
    bob = await client('bob', 'bob-1', 'access-b');
    expect(alice.usePath).toHaveLength(1);
    expect(alice.usePath[0]).toMatchObject({ scheme: 'msrps', host: relay.addresses['access-a'], port: MSRP_RELAY_PORT, transport: 'tcp' });
    expect(bob.usePath).toHaveLength(1);
    expect(bob.usePath[0]).toMatchObject({ scheme: 'msrps', host: relay.addresses['access-b'], port: MSRP_RELAY_PORT, transport: 'tcp' });
    aliceSession = new MsrpSession({ connection: alice.conn, localUri: alice.localUri, toPath: routeTo(alice.usePath, [...bob.usePath, bob.localUri]) });
    bobSession = new MsrpSession({ connection: bob.conn, localUri: bob.localUri, toPath: routeTo(bob.usePath, [...alice.usePath, alice.localUri]) });
  });

  it('relays a text SEND to Bob, with a success REPORT back to Alice', async () => {
    const got = new Promise<ReceivedMessage>((r) => bobSession.once('message', r));
    const text = `Hello Bob, ${marker}`;
    const sent = await aliceSession.send(text, { contentType: 'text/plain', successReport: true });
    const msg = await got;
    expect(msg.body.equals(Buffer.from(text))).toBe(true);
    expect(msg.messageId).toBe(sent.messageId);
    expect(msg.fromPath.map(formatMsrpUri)).toEqual([...bob.usePath, ...alice.usePath, alice.localUri].map(formatMsrpUri));
    expect((await aliceSession.waitForReport(sent.messageId, 10_000)).status.code).toBe(200);
  });

  it('relays binary content in chunks, reassembled byte for byte, both ways', async () => {
    const data = randomBytes(100_000);
    const got = new Promise<ReceivedMessage>((r) => bobSession.once('message', r));
    await aliceSession.send(data, { contentType: 'application/octet-stream', chunkSize: 8192 });
    expect((await got).body.equals(data)).toBe(true);
    const back = randomBytes(3000);
    const gotBack = new Promise<ReceivedMessage>((r) => aliceSession.once('message', r));
    await bobSession.send(back, { contentType: 'application/octet-stream' });
    expect((await gotBack).body.equals(back)).toBe(true);
  });

  it('the relay logged the SENDs it relayed and is still running', () => {
    const log = readFileSync(join(netDir, 'logs', 'msrp-relay.log'), 'utf8');
    expect(log).toMatch(/MSRP SEND from /);
    expect(target.crashed()).toEqual([]);
  });

  it('the captures hold the SEND only inside TLS; each client\'s key log decrypts its own leg (the relay reads the plaintext)', async () => {
    capturing = false;
    files = (await target.stopCaptures()).files;
    const keys = join(runDir, 'clients.tls-keys.log');
    writeFileSync(keys, readFileSync(alice.keylog, 'utf8') + readFileSync(bob.keylog, 'utf8'));
    const tshark = async (file: string, relayAddress: string, filter: string, decrypt: boolean) => {
      // tshark has no MSRP heuristic inside TLS: an ssl_keys entry maps the relay's port to MSRP.
      const opts = decrypt
        ? ['-o', `tls.keylog_file:${keys}`, '-d', `tcp.port==${MSRP_RELAY_PORT},tls`, '-o', `uat:ssl_keys:"${relayAddress}","${MSRP_RELAY_PORT}","msrp","${join(PKI_DIR, 'msrp-relay.key')}",""`]
        : [];
      const { stdout } = await execFileP('tshark', ['-r', file, '-n', ...opts, '-Y', filter, '-T', 'fields', '-E', 'separator=,', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'msrp.method'], { maxBuffer: 64 << 20 });
      return stdout.split('\n').filter(Boolean);
    };
    const withMarker = `msrp.method == "SEND" && msrp contains "${marker}"`;
    expect(await tshark(files['access-a']!, alice.relayAddress, withMarker, true)).toContain(`${alice.address},${alice.relayAddress},SEND`);
    expect(await tshark(files['access-b']!, bob.relayAddress, withMarker, true)).toContain(`${bob.relayAddress},${bob.address},SEND`);
    for (const link of ['access-a', 'access-b', 'core']) {
      expect(await tshark(files[link]!, relay.address, `frame contains "${marker}"`, false), link).toEqual([]);
    }
  }, 60_000);
});
