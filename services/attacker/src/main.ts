import { runElement } from '@imslab/element-kit';
import { Attacker } from './attacker.ts';
import { AttackerConfigSchema } from './config.ts';

runElement('attacker', process.argv.slice(2), AttackerConfigSchema, (cfg) => Attacker.start(cfg));
