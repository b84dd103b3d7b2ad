import { runElement } from '@imslab/element-kit';
import { PocConfigSchema } from './config.ts';
import { PocServer } from './poc-server.ts';

runElement('poc', process.argv.slice(2), PocConfigSchema, (cfg) => PocServer.start(cfg));
