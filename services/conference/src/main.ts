import { runService } from '@imslab/app-server';
import { parseConferenceConfig } from './config.ts';
import { ConferenceServer } from './conference-server.ts';

runService('conference', process.argv.slice(2), parseConferenceConfig, (cfg) => ConferenceServer.start(cfg));
