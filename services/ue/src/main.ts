import { runElement } from '@imslab/element-kit';
import { UeConfigSchema } from './config.ts';
import { Ue } from './ue.ts';

/**
 * UE process entry: `main --config <file.json>` (exit codes: element-kit's
 * runElement). POST /shutdown on the control API exits the process too.
 */
runElement('ue', process.argv.slice(2), UeConfigSchema, async (cfg) => {
  const ue = await Ue.start(cfg, { exit: (code) => process.exit(code) });
  return { close: () => ue.shutdown() };
});
