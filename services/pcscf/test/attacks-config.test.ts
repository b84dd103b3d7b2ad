/**
 * The P-CSCF's attacks (issue 13: a compromised signalling hop) are Kamailio
 * fragments spliced into route[ATTACK] of services/pcscf/kamailio.cfg. Each
 * attack's rendered configuration must be one the real Kamailio accepts
 * (`kamailio -c`), or the scenario that sets it would fail at start-up for
 * the wrong reason; and each fragment must act only where it means to.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { elementsOf, planNetwork, renderElement } from '@imslab/network';
import { DEFAULT_SUBSCRIBERS } from '@imslab/runner';
import { loadSubscribers } from '@imslab/topology';
import { PCSCF_ATTACKS, pcscf, type PcscfAttack } from '../element.ts';

const MISSING = spawnSync('kamailio', ['-v']).error ? 'kamailio is not installed (scripts/setup.sh installs it)' : null;
if (MISSING) console.warn(`services/pcscf/test/attacks-config.test.ts skipped: ${MISSING}`);

const dir = mkdtempSync(join(tmpdir(), 'imslab-pcscf-attacks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** pcscf-a's kamailio.cfg with `attack` set, written to a directory of its own; its path and text. */
function rendered(attack: PcscfAttack | null): { file: string; text: string } {
  const plan = planNetwork(loadSubscribers(DEFAULT_SUBSCRIBERS), 'local', attack ? { attacks: { 'pcscf-a': attack } } : {}, 0);
  const e = elementsOf(plan, pcscf).find((x) => x.name === 'pcscf-a')!;
  const configDir = join(dir, attack ?? 'none');
  const r = renderElement(e, { configDir, pkiDir: join(dir, 'pki'), runDir: dir, nodeCommand: [], serviceEntry: () => '', kmsSecrets: {} as never });
  mkdirSync(configDir, { recursive: true });
  for (const [name, text] of Object.entries(r.files)) writeFileSync(join(configDir, name), text);
  return { file: join(configDir, 'kamailio.cfg'), text: r.files['kamailio.cfg']! };
}

/** `kamailio -c`: parses the file and loads its modules; a syntax error or a function no module provides is refused. */
function check(file: string): { ok: boolean; out: string } {
  const r = spawnSync('kamailio', ['-c', '-f', file], { encoding: 'utf8', timeout: 20_000 });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** The body of route[ATTACK] in a rendered configuration. */
const attackRoute = (text: string) => /\nroute\[ATTACK\] \{\n([\s\S]*?)\n\}\n/.exec(text)?.[1] ?? '';
/** The body of route[ATTACK_ANSWER]: attacks on the answer from the core. */
const answerRoute = (text: string) => /\nroute\[ATTACK_ANSWER\] \{\n([\s\S]*?)\n\}\n/.exec(text)?.[1] ?? '';
const ANSWER_ATTACKS: readonly PcscfAttack[] = ['replay-transfer-resp'];

describe.skipIf(MISSING !== null)('P-CSCF attacks: every fragment is a configuration Kamailio accepts', () => {
  it.each([null, ...PCSCF_ATTACKS])('attack %s', (attack) => {
    const { file, text } = rendered(attack);
    const r = check(file);
    expect(r.ok, r.out.slice(-2000)).toBe(true);
    // The fragment is in place, in the route it belongs to: the other stays a bare return.
    const [own, other] = attack && ANSWER_ATTACKS.includes(attack) ? [answerRoute(text), attackRoute(text)] : [attackRoute(text), answerRoute(text)];
    if (attack) expect(own.trim()).not.toBe('return;');
    else expect(own.trim()).toBe('return;');
    expect(other.trim()).toBe('return;');
  });

  it('a broken fragment is refused (the check can fail)', () => {
    const { file, text } = rendered('strip-3ge2ae');
    writeFileSync(file, text.replace('route[ATTACK] {\n', 'route[ATTACK] {\n\tif (search_body("x") {\n'));
    expect(check(file).ok).toBe(false);
    writeFileSync(file, text.replace('route[ATTACK] {\n', 'route[ATTACK] {\n\tno_such_function("x");\n'));
    expect(check(file).ok).toBe(false);
  });

  it('strip-mediasec acts on REGISTER only; the INVITE attacks need a body, which a REGISTER has not', () => {
    expect(attackRoute(rendered('strip-mediasec').text)).toMatch(/^\tif \(!is_method\("REGISTER"\) \|\| \$avp\(mediasec\) != 1\) return;/);
    for (const a of PCSCF_ATTACKS.filter((x) => x !== 'strip-mediasec' && !ANSWER_ATTACKS.includes(x))) expect(attackRoute(rendered(a).text), a).toMatch(/^\tif \(!search_body\("/);
    for (const a of ANSWER_ATTACKS) expect(answerRoute(rendered(a).text), a).toMatch(/^\tif \(!search_body\("a=key-mgmt:mikey "\)\) return;/);
  });

  it('substitute-sdes hands the offer to route[SUBSTITUTE_SDES], which skips the ordinary relay of the offer', () => {
    const { text } = rendered('substitute-sdes');
    expect(attackRoute(text)).toContain('route(SUBSTITUTE_SDES);');
    expect(text).toMatch(/route\[SUBSTITUTE_SDES\] \{[\s\S]*?\$var\(media_done\) = 1;/);
    expect(text).toContain('if ($var(media_done) != 1) route(MEDIA_OFFER_MO);');
  });
});
