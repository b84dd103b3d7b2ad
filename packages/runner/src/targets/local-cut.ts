import { execFileSync } from 'node:child_process';
import { pidAlive } from '../state.ts';

/**
 * Cutting an element off on the local target: every element lives on
 * loopback addresses of its own, so an iptables chain hooked into OUTPUT
 * that drops every packet from or to those addresses cuts it off as a
 * pulled cable would (loopback packets pass OUTPUT once; dropped there,
 * tcpdump never sees them, as on a cut link). One chain per network, named
 * after the runner's pid so that a crashed run's chain is recognised and
 * removed (downLocal, the reaper).
 */
const PREFIX = 'IMSLAB-';

/** The chain of one local network (state id `local-<runner pid>-<slot>-<n>`): `IMSLAB-<runner pid>-<slot>-<n>`, within iptables' 28 characters. */
export function cutChainName(stateId: string): string {
  return PREFIX + stateId.replace(/^local-/, '');
}

function iptables(args: string[]): void {
  // -w: several runs may change the table at once; wait for the lock instead of failing.
  execFileSync('iptables', ['-w', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function quiet(args: string[]): void {
  try { iptables(args); } catch { /* already gone */ }
}

/** Creates the chain and hooks it into OUTPUT, once. */
function hook(chain: string): void {
  try {
    iptables(['-N', chain]);
    iptables(['-I', 'OUTPUT', '1', '-j', chain]);
  } catch (e) {
    if (!/exists/i.test(String((e as { stderr?: Buffer }).stderr ?? ''))) throw e;
  }
}

/**
 * Drops every packet from or to `addresses` (the chain is created and hooked
 * on first use), except TCP to and from `keep` (the element's control API:
 * the runner still asks it what it saw, as a management network would).
 */
export function cutOff(chain: string, addresses: readonly string[], keep: ReadonlyArray<{ address: string; port: number }>): void {
  hook(chain);
  for (const k of keep) {
    iptables(['-I', chain, '1', '-p', 'tcp', '-s', k.address, '--sport', String(k.port), '-j', 'RETURN']);
    iptables(['-I', chain, '1', '-p', 'tcp', '-d', k.address, '--dport', String(k.port), '-j', 'RETURN']);
  }
  for (const a of addresses) {
    iptables(['-A', chain, '-s', a, '-j', 'DROP']);
    iptables(['-A', chain, '-d', a, '-j', 'DROP']);
  }
}

/**
 * Refuses only `ports` (TCP with a reset, UDP with ICMP port unreachable) to
 * `addresses`: an attacker on the link blocking the element's TLS port, say,
 * to push a UE to fall back to plain SIP. Refused rather than dropped, as an
 * attacker injecting resets would, so the UE learns at once.
 */
export function blockPorts(chain: string, addresses: readonly string[], ports: readonly number[]): void {
  hook(chain);
  for (const a of addresses) {
    for (const port of ports) {
      iptables(['-A', chain, '-d', a, '-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'tcp-reset']);
      iptables(['-A', chain, '-d', a, '-p', 'udp', '--dport', String(port), '-j', 'REJECT']);
    }
  }
}

/** Unhooks and deletes a chain; harmless when it does not exist. */
export function removeCut(chain: string): void {
  quiet(['-D', 'OUTPUT', '-j', chain]);
  quiet(['-F', chain]);
  quiet(['-X', chain]);
}

/** Chains of local networks whose runner is dead (`all`: every one): removed, and named. */
export function removeStaleCuts(all: boolean): string[] {
  let listing = '';
  try {
    listing = execFileSync('iptables', ['-w', '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return []; // no iptables: no chain of ours either
  }
  const out: string[] = [];
  for (const m of listing.matchAll(/^-N (IMSLAB-(\d+)-\d+-\d+)$/gm)) {
    if (!all && pidAlive(Number(m[2]))) continue;
    removeCut(m[1]!);
    out.push(`iptables chain ${m[1]}`);
  }
  return out;
}

/**
 * The docker target's port block: the same refusal inside a container's
 * network namespace (nsenter from the host, as root), for traffic arriving
 * at the container; the namespace, and the rules, go with the container.
 */
export function blockPortsInNamespace(pid: number, ports: readonly number[]): void {
  for (const port of ports) {
    for (const rule of [['-p', 'tcp', '--dport', String(port), '-j', 'REJECT', '--reject-with', 'tcp-reset'], ['-p', 'udp', '--dport', String(port), '-j', 'REJECT']]) {
      execFileSync('nsenter', ['-t', String(pid), '-n', 'iptables', '-w', '-I', 'INPUT', ...rule], { stdio: ['ignore', 'ignore', 'pipe'] });
    }
  }
}
