import { runElement } from '@imslab/element-kit';
import { ImConfigSchema } from './config.ts';
import { ImServer } from './im-server.ts';

runElement('im', process.argv.slice(2), ImConfigSchema, (cfg) => ImServer.start(cfg));
