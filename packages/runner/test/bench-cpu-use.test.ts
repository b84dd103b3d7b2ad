import { describe, expect, it } from 'vitest';
import { machineCpu, perCommand } from '../../../scripts/lib/cpu-use.ts';

// dump-acct(8) lines as the acct 6.6.4 package prints them (comm|version|utime|stime|etime|uid|gid|mem|io|pid|ppid|flags|exit|tty|time).
const DUMP = [
  'tshark          |v3|    17.00|    11.00|    23.00|     0|     0| 65777.00|     0.00|   16390|   16383|S    |       0|__      |Fri Dec  4 18:12:22 2026',
  'kamailio        |v3|    12.00|     1.00|   433.00|     0|     0| 72039.00|     0.00|   10967|    1830|     |       0|__      |Fri Dec  4 18:12:22 2026',
  'tshark          |v3|    20.00|     9.00|    25.00|     0|     0| 65777.00|     0.00|   16391|   16383|S    |       0|__      |Fri Dec  4 18:12:23 2026',
  'kamailio        |v3|     0.00|     1.00|   433.00|     0|     0| 72039.00|     0.00|   10968|   10967|F    |       0|__      |Fri Dec  4 18:12:23 2026',
  'not a record',
  '',
].join('\n');

describe('bench CPU split', () => {
  it('sums user and system ticks per command, largest first', () => {
    expect(perCommand(DUMP)).toEqual([
      { command: 'tshark', processes: 2, cpuSeconds: 0.57 },
      { command: 'kamailio', processes: 2, cpuSeconds: 0.14 },
    ]);
  });

  it('counts the machine busy while this process spins', () => {
    const since = machineCpu();
    const until = Date.now() + 200;
    while (Date.now() < until) { /* busy */ }
    const { cpuSeconds, busyFraction } = since();
    expect(cpuSeconds).toBeGreaterThan(0.1);
    expect(busyFraction).toBeGreaterThan(0);
    expect(busyFraction).toBeLessThanOrEqual(1);
  });
});
