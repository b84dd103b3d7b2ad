import { runElement } from '@imslab/element-kit';
import { ConferenceConfigSchema } from './config.ts';
import { ConferenceServer } from './conference-server.ts';

runElement('conference', process.argv.slice(2), ConferenceConfigSchema, (cfg) => ConferenceServer.start(cfg));
