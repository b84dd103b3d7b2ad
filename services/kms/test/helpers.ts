/**
 * Fixtures: a throwaway testbed PKI (the project's own node-forge PKI), a
 * KMS configuration with alice, bob (two devices, no-answer forwarding to
 * carol), carol and dave, an in-process KMS on 127.0.6.x, and the UE side of
 * the exchanges built with @imslab/mikey exactly as the UE does it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KmsClient, devicePskId, kmsIdentityUri } from '@imslab/kms-client';
import {
  buildRequestInit,
  buildResolveInit,
  naiIdentity,
  uriIdentity,
  verifyRequestResp,
  type MikeyIdentity,
  type RequestInitInput,
  type RequestResult,
  type ResolutionPolicy,
  type ResolveInitInput,
  type TicketPayload,
} from '@imslab/mikey';
import { ensurePki } from '@imslab/topology';
import { Kms, parseKmsConfig, type KmsConfig, type KmsStartOptions } from '../src/index.ts';

export const DOMAIN = 'ims.test';

/** A device as the UE sees itself: user URI, device name, secret. */
export interface TestDevice {
  uri: string;
  name: string;
  secret: Uint8Array;
  identity: MikeyIdentity;
  pskId: MikeyIdentity;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function device(user: string, name: string): TestDevice {
  const uri = `sip:${user}@${DOMAIN}`;
  return { uri, name, secret: new Uint8Array(randomBytes(32)), identity: uriIdentity(uri), pskId: naiIdentity(devicePskId(name, DOMAIN)) };
}

/** The subscribers of every KMS test. */
export function testDevices() {
  return {
    alice: device('alice', 'alice'),
    bob1: device('bob', 'bob-1'),
    bob2: device('bob', 'bob-2'),
    carol: device('carol', 'carol'),
    dave: device('dave', 'dave-1'),
  };
}
export type TestDevices = ReturnType<typeof testDevices>;

/** A PKI in a fresh temp dir with a `kms` certificate for `ips`. */
export function testPki(ips: string[]): { dir: string; caFile: string; certFile: string; keyFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'imslab-kms-test-'));
  const pki = ensurePki(join(dir, 'pki'), [{ name: 'kms', ips }]);
  return { dir, caFile: pki.caFile, certFile: pki.certFile('kms'), keyFile: pki.keyFile('kms') };
}

/** The raw JSON config, as services/kms/element.ts renders it. */
export function rawConfig(address: string, dir: string, pki: { caFile: string; certFile: string; keyFile: string }, d: TestDevices, masterKey = randomBytes(32).toString('hex')) {
  const u = (user: string, devs: TestDevice[], forwarding: object = {}) => ({ uri: `sip:${user}@${DOMAIN}`, user, forwarding, devices: devs.map((x) => ({ name: x.name, secret: hex(x.secret) })) });
  return {
    name: 'kms',
    address,
    httpsPort: 8443,
    controlPort: 8000,
    domain: DOMAIN,
    tls: { caFile: pki.caFile, certFile: pki.certFile, keyFile: pki.keyFile },
    masterKey,
    users: [u('alice', [d.alice]), u('bob', [d.bob1, d.bob2], { noAnswer: { to: `sip:carol@${DOMAIN}`, seconds: 4 } }), u('carol', [d.carol]), u('dave', [d.dave])],
    groups: [
      { uri: `sip:conf-team@${DOMAIN}`, members: [`sip:alice@${DOMAIN}`, `sip:bob@${DOMAIN}`, `sip:carol@${DOMAIN}`] },
      { uri: `sip:poc-team@${DOMAIN}`, members: [`sip:alice@${DOMAIN}`, `sip:bob@${DOMAIN}`, `sip:carol@${DOMAIN}`], keying: 'sakke' },
    ],
    auditLog: join(dir, 'run', 'kms-audit.jsonl'),
    runDir: join(dir, 'run'),
  };
}

/** A running in-process KMS with a client and the UE-side helpers. */
export interface KmsWorld {
  kms: Kms;
  cfg: KmsConfig;
  client: KmsClient;
  devices: TestDevices;
  kmsId: MikeyIdentity;
  caFile: string;
  dir: string;
  /** The KMS clock (ms); tests may move it. */
  clock: { offsetMs: number };
  /** The KMS's log lines. */
  logLines: string[];
  /** Every MPK and TGK the KMS handed out through {@link getTicket} (to prove none reaches a log). */
  issuedKeys: Uint8Array[];
  close(): Promise<void>;
}

/** Starts a KMS on `address` with a fresh PKI. */
export async function startWorld(address: string, o: Omit<KmsStartOptions, 'now'> = {}): Promise<KmsWorld> {
  const devices = testDevices();
  const pki = testPki([address]);
  const cfg = parseKmsConfig(rawConfig(address, pki.dir, pki, devices));
  const clock = { offsetMs: 0 };
  const lines: string[] = [];
  const kms = await Kms.start(cfg, { log: (l) => lines.push(l), now: () => Date.now() + clock.offsetMs, ...o });
  const client = new KmsClient({ url: kms.httpsUrl, caFile: pki.caFile, timeoutMs: 5000 });
  return {
    kms,
    cfg,
    client,
    devices,
    kmsId: uriIdentity(kmsIdentityUri(kms.httpsUrl)),
    caFile: pki.caFile,
    dir: pki.dir,
    clock,
    issuedKeys: [],
    logLines: lines,
    close: async () => {
      client.close();
      await kms.close();
      rmSync(pki.dir, { recursive: true, force: true });
    },
  };
}

/** REQUEST_INIT from `from` for `responder`, as the UE builds it. */
export function requestInit(w: KmsWorld, from: TestDevice, responder: MikeyIdentity, policy: ResolutionPolicy, extra: Partial<RequestInitInput> = {}) {
  return buildRequestInit({ initiator: from.identity, kms: w.kmsId, psk: from.secret, pskId: from.pskId, responders: [responder], policy, nowMs: Date.now() + w.clock.offsetMs, ...extra });
}

/** Requests a ticket through the KMS and verifies REQUEST_RESP. */
export async function getTicket(w: KmsWorld, from: TestDevice, responder: MikeyIdentity, policy: ResolutionPolicy, extra: Partial<RequestInitInput> = {}): Promise<RequestResult> {
  const init = requestInit(w, from, responder, policy, extra);
  const r = verifyRequestResp(await w.client.request(init.bytes), init.state, { nowMs: Date.now() + w.clock.offsetMs });
  w.issuedKeys.push(r.tgk, r.mpki, r.mpkr);
  return r;
}

/** RESOLVE_INIT from `by` for `ticket`. */
export function resolveInit(w: KmsWorld, by: TestDevice, ticket: TicketPayload, extra: Partial<ResolveInitInput> = {}) {
  return buildResolveInit({ ticket, responder: by.identity, kms: w.kmsId, psk: by.secret, pskId: by.pskId, nowMs: Date.now() + w.clock.offsetMs, ...extra });
}

/** A raw HTTPS POST (for content types and sizes the client never sends). */
export function rawPost(w: KmsWorld, path: string, body: Buffer, headers: Record<string, string | number>, method = 'POST'): Promise<{ status: number; json: { error?: string; code?: string } | undefined }> {
  const u = new URL(w.kms.httpsUrl);
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: u.hostname, port: Number(u.port), path, method, ca: readFileSync(w.caFile), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** GET on the control API, parsed JSON. */
export function controlGet<T = unknown>(w: KmsWorld, path: string): Promise<{ status: number; body: T }> {
  return new Promise((resolve, reject) => {
    httpRequest(`${w.kms.controlUrl}${path}`, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as T }));
    })
      .on('error', reject)
      .end();
  });
}
